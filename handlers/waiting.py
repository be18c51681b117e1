"""Notifications that waited for a staff member who had not started the bot yet: held when Telegram
says the bot cannot write first, delivered as soon as they write to the bot (usually /start)."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, TypeHandler

from handlers.context import BotContext
from handlers.errors import JOURNEY_GROUP
from storage import outbox
from storage.db import SessionFactory, session_scope
from storage.models import Person, Role

log = logging.getLogger(__name__)
# After the journeys, once the gate knows who writes: only staff can have notifications waiting,
# so nobody else costs a query.
DELIVERY_GROUP = JOURNEY_GROUP + 1


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


async def reached(sessions: SessionFactory, person: Person) -> None:
    """Telegram accepted a message for someone flagged as not started: they are reachable."""
    async with session_scope(sessions) as session:
        await outbox.started(session, person.telegram_id)


async def deliver_waiting(update: Update, context: BotContext) -> None:
    """Send what waited for the staff member writing now, oldest first; each is deleted once sent."""
    user = update.effective_user
    viewer = context.viewer
    if user is None or viewer is None or viewer.role not in (Role.ADVISOR, Role.ADMIN):
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
    return [TypeHandler(Update, deliver_waiting)]
