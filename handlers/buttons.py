"""Inline buttons, handled in one place.

Every button of every journey is registered here with :func:`button` (and main-menu entries with
:func:`menu`): its data is decoded once into typed fields with the journey's
:class:`~handlers.callbacks.Action`, the
role is checked where the button is staff-only, and the query is answered exactly once on every
path: success (the step returns what the answer says), refusal (an alert), stale or forged data
(no step matches: the catch-all of :func:`otherwise`), and failure (answered, then the exception
goes on to ``handlers.errors``, which apologises). A step never answers a query itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.callbacks import Action
from handlers.context import BotContext
from locales import Translator

log = logging.getLogger(__name__)

Fields = tuple[str | int, ...]  # whole-number fields as ``int`` (``handlers.callbacks.integer``)
_TOO_OLD = "query is too old"
MAX_ANSWER = 200  # Telegram's limit for an answer's text


@dataclass(frozen=True)
class Answer:
    """What the small answer to a tap says: nothing, a short notice, or an alert to dismiss."""

    text: str | None = None
    alert: bool = False


class Refused(Exception):
    """A step will not do what the button asks and has shown nothing; ``text`` becomes an alert
    (for a command: the reply)."""

    def __init__(self, text: str):
        super().__init__("refused")
        self.text = text


# A step of a journey: the button's decoded fields (``()`` for a command or a menu entry) in, the
# answer to the tap out. It renders what the person sees itself, through ``handlers.replies.show``.
Step = Callable[[Update, BotContext, Fields], Awaitable[Answer | None]]
Refusal = Callable[[Translator], str]


def _allowed(context: BotContext, roles: Collection[str] | None) -> bool:
    return roles is None or (context.viewer is not None and context.viewer.role in roles)


async def _answer(update: Update, answer: Answer | None) -> None:
    """Answer the query once; a query Telegram no longer accepts (too old) is only logged."""
    query = update.callback_query
    assert query is not None
    answer = answer or Answer()
    text = answer.text[:MAX_ANSWER] if answer.text else None
    try:
        await query.answer(text, show_alert=answer.alert and text is not None)
    except BadRequest as error:
        if _TOO_OLD not in error.message.lower():
            raise
        log.info("update %s: the button's query was too old to answer", update.update_id)


async def _run(update: Update, step: Awaitable[Answer | None]) -> None:
    """Run a step for a tapped button and answer its query exactly once, whatever happens."""
    try:
        answer = await step
    except Refused as refused:
        answer = Answer(refused.text or None, alert=True)
    except Exception:
        await _answer(update, None)
        raise
    await _answer(update, answer)


def button(
    action: Action,
    step: Step,
    *,
    roles: Collection[str] | None = None,
    refusal: Refusal | None = None,
) -> BaseHandler:
    """The handler for one kind of button: ``step`` gets the decoded fields. With ``roles``, everyone
    else hears ``refusal`` (in their language) as an alert and the step does not run."""

    async def checked(update: Update, context: BotContext) -> Answer | None:
        fields = action.parse(update.callback_query.data if update.callback_query else None)
        if fields is None or context.viewer is None:
            return None
        if not _allowed(context, roles):
            raise Refused(refusal(context.t) if refusal else "")
        return await step(update, context, fields)

    async def tapped(update: Update, context: BotContext) -> None:
        await _run(update, checked(update, context))

    return CallbackQueryHandler(tapped, pattern=action.matches)


def command(
    names: str | Collection[str],
    step: Step,
    *,
    roles: Collection[str] | None = None,
    refusal: Refusal | None = None,
) -> BaseHandler:
    """A command that runs a step also reachable by a button; a refusal becomes the reply."""

    async def typed(update: Update, context: BotContext) -> None:
        message = update.effective_message
        if message is None or context.viewer is None:
            return
        try:
            if not _allowed(context, roles):
                raise Refused(refusal(context.t) if refusal else "")
            await step(update, context, ())
        except Refused as refused:
            if refused.text:
                await message.reply_text(refused.text)

    return CommandHandler(names, typed)


def menu(action: Action, sections: Mapping[str, Step]) -> BaseHandler:
    """The main menu's buttons: one table from section to step, whatever the registration order."""

    async def step(update: Update, context: BotContext, fields: Fields) -> Answer | None:
        (section,) = fields
        return await sections[section](update, context, ())

    return button(action, step)


def otherwise(step: Step) -> BaseHandler:
    """The catch-all, registered last: a button whose data no journey accepts (stale or forged)."""

    async def tapped(update: Update, context: BotContext) -> None:
        await _run(update, step(update, context, ()))

    return CallbackQueryHandler(tapped)
