"""The global error handler: nothing fails silently.

Only real network failures (timeouts, lost connections) are blips: logged as a warning, and no
apology is possible anyway. A person who blocked the bot is marked. Everything else — PTB's
``BadRequest`` (a subclass of ``NetworkError``: a bug in what we sent), ``Forbidden`` for another
reason than a block, any other ``TelegramError`` and every exception of our own — is a bug: logged
with a traceback (``bot.logs`` leaves exception messages out of it) and the person gets an apology
in their language that tells the truth about whether their step was saved.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseHandler, TypeHandler

from handlers.context import BotContext
from locales import Translator, supported_language
from storage import people
from storage.db import begin_step, session_scope, step_committed

log = logging.getLogger(__name__)
BLOCKED = "bot was blocked by the user"
# After the gate (group -1), every update passes group 0, where its step begins; the journeys'
# handlers are in group 1.
STEP_GROUP = 0
JOURNEY_GROUP = 1


def is_network_blip(error: object) -> bool:
    """A timeout or a lost connection: not our bug, and nothing can be said to the person."""
    if isinstance(error, (OSError, TimeoutError)):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, (BadRequest, RetryAfter))


def is_block(error: object) -> bool:
    """Telegram refused because the person blocked the bot (not, e.g., "can't initiate")."""
    return isinstance(error, Forbidden) and BLOCKED in error.message.lower()


def apology(t: Translator, saved: bool) -> str:
    """The apology, true to what happened: the step was saved and only the answer failed, or not."""
    if saved:
        return t.pgettext(
            "errors",
            "Sorry, something went wrong on our side: your last step was saved, but I could not show "
            "you the answer. Please open the menu with /menu to continue.",
        )
    return t.pgettext(
        "errors",
        "Sorry, something went wrong on our side and your last step was not saved. "
        "Please try again in a moment.",
    )


async def _translator(update: Update, context: BotContext) -> Translator:
    """The person's language: as stored, else their phone's, else the default. The error handler
    gets a fresh context, so it looks the person up again (and copes when the database is down)."""
    user = update.effective_user
    language: str | None = None
    if user is not None:
        try:
            async with session_scope(context.runtime.sessions) as session:
                person = await people.person_by_telegram_id(session, user.id)
                language = person.language if person is not None else None
        except Exception:  # the database may be what failed; the apology still goes out
            log.warning("update %s: could not look up the language for the apology", update.update_id)
        language = language or supported_language(user.language_code)
    return Translator(language or context.runtime.default_language, context.runtime.zone)


async def step_begins(_update: Update, _context: BotContext) -> None:
    """From here on, remember whether the step commits anything (for a truthful apology)."""
    begin_step()


def step_handlers() -> list[BaseHandler]:
    """For :data:`STEP_GROUP`: marks where the journey's step begins, for every update."""
    return [TypeHandler(Update, step_begins)]


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure by update id and type only, then tell the person something useful."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if is_network_blip(error):
        log.warning("network error while handling update %s: %s", update_id, type(error).__name__)
        return
    if is_block(error) and isinstance(update, Update) and update.effective_user:
        async with session_scope(context.runtime.sessions) as session:
            await people.mark_blocked(session, update.effective_user.id, context.now())
        log.info("update %s: the person blocked the bot", update_id)
        return
    saved = step_committed()
    log.error("update %s failed with %s", update_id, type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # A tapped button has been answered already: handlers.buttons answers before passing a failure on.
    t = await _translator(update, context)
    try:
        await context.bot.send_message(update.effective_chat.id, apology(t, saved))
    except TelegramError as failure:
        log.warning("update %s: could not send the apology: %s", update_id, type(failure).__name__)
