"""Notifications that waited for a staff member who had not started the bot yet: held when Telegram
says the bot cannot write first, delivered as soon as they send the bot a command (such as /start)."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, MessageHandler, filters

from handlers.context import BotContext
from storage import outbox
from storage.db import SessionFactory, session_scope
from storage.models import Person

log = logging.getLogger(__name__)
# Before the gate (group -1): the staff member already exists, and nothing else needs to run first.
DELIVERY_GROUP = -2


def cannot_initiate(error: Forbidden) -> bool:
    """Telegram's answer for someone who never started the bot; unlike a block, it goes away."""
    return "initiate conversation" in error.message


async def hold(sessions: SessionFactory, person: Person, text: str, markup: object, now: datetime) -> None:
    """Keep a notification for a staff member who has not started the bot, and flag them."""
    keyboard = markup.to_dict() if isinstance(markup, InlineKeyboardMarkup) else None
    async with session_scope(sessions) as session:
        await outbox.not_started(session, person.telegram_id, now)
        await outbox.hold(session, person.id, text, keyboard, now)
    log.info("a staff notification waits until its recipient starts the bot")


async def deliver_waiting(update: Update, context: BotContext) -> None:
    """Send what waited for the person writing now, oldest first; each is deleted once sent."""
    user = update.effective_user
    if user is None:
        return
    sessions = context.runtime.sessions
    async with session_scope(sessions) as session:
        notes = await outbox.waiting_for(session, user.id)
        waiting = [(note.id, note.text, note.reply_markup) for note in notes]
    for note_id, text, markup in waiting:
        keyboard = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
        try:
            await context.bot.send_message(user.id, text, reply_markup=keyboard)
        except TelegramError as error:
            log.warning("a waiting notification was not delivered: %s", type(error).__name__)
            return
        async with session_scope(sessions) as session:
            await outbox.delivered(session, note_id)
    if waiting:
        log.info("delivered %s waiting notifications", len(waiting))


def handlers() -> list[BaseHandler]:
    return [MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, deliver_waiting, block=True)]
