"""Free text: the answer to a question the bot is waiting for, or else a search.

The waiting state lives in the database (``storage.pending``), so a restart between the bot's
question and the person's answer loses nothing. The gate reads it in its own transaction
(``Viewer.waiting``), so typed text costs one write transaction, not one per lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers.context import BotContext
from storage import pending
from storage.db import session_scope
from storage.pending import Waiting

AnswerHandler = Callable[[Update, BotContext, Waiting], Awaitable[None]]
TextHandler = Callable[[Update, BotContext], Awaitable[None]]


def handlers(answers: Mapping[str, AnswerHandler], otherwise: TextHandler) -> list[BaseHandler]:
    """One text handler that routes to the journey whose question is open, else to ``otherwise``."""

    async def on_text(update: Update, context: BotContext) -> None:
        """Typed text: an awaited answer, or else ``otherwise``."""
        waiting = context.viewer.waiting if context.viewer is not None else None
        if waiting is not None and waiting.kind in answers:
            await answers[waiting.kind](update, context, waiting)
        else:
            await otherwise(update, context)

    async def cancel(update: Update, context: BotContext) -> None:
        """/cancel: stop waiting for an answer."""
        if context.viewer is None or update.effective_message is None:
            return
        async with session_scope(context.runtime.sessions) as session:
            was_waiting = await pending.stop_waiting(session, context.viewer.person_id)
        t = context.t
        await update.effective_message.reply_text(
            t.pgettext("pending", "Cancelled. Nothing was changed.")
            if was_waiting
            else t.pgettext("pending", "There is nothing to cancel.")
        )

    return [CommandHandler("cancel", cancel), MessageHandler(filters.TEXT & ~filters.COMMAND, on_text)]
