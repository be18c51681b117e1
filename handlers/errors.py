"""The global error handler: log without personal data, apologise in the person's language."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

from handlers.context import BotContext
from storage import people
from storage.db import session_scope

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure by update id and type only, then tell the person something useful."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, NetworkError) and not isinstance(error, RetryAfter):
        log.warning("network error while handling update %s: %s", update_id, type(error).__name__)
        return
    if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_user:
        async with session_scope(context.runtime.sessions) as session:
            await people.mark_blocked(session, update.effective_user.id, context.now())
        log.info("update %s: the person blocked the bot", update_id)
        return
    # bot.logs formats tracebacks without exception messages, which may quote personal data.
    log.error("update %s failed with %s", update_id, type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    t = context.t
    if update.callback_query is not None:
        # It may have been answered before the failure, or be too old to answer.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            t.pgettext(
                "errors",
                "Sorry, something went wrong on our side and your last step was not saved. "
                "Please try again in a moment.",
            ),
        )
    except TelegramError:
        log.warning("update %s: could not send the apology", update_id)
