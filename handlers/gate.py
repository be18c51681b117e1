"""The gate every update passes first (handler group -1): deduplicate, load the person, set language.

It also records when a person blocks or unblocks the bot (``my_chat_member`` updates).
"""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, ChatMemberHandler, TypeHandler

from handlers.context import BotContext, Viewer
from locales import supported_language
from storage import people, updates
from storage.db import session_scope

GATE_GROUP = -1
log = logging.getLogger(__name__)


async def admit_update(update: Update, context: BotContext) -> None:
    """Drop an update seen before; load or create the person and remember who they are."""
    runtime = context.runtime
    user = update.effective_user
    async with session_scope(runtime.sessions) as session:
        if not await updates.claim_update(session, update.update_id, context.now()):
            log.info("update %s was delivered twice; handled once", update.update_id)
            raise ApplicationHandlerStop
        if user is None or user.is_bot or update.my_chat_member is not None:
            return
        chat = update.effective_chat
        if chat is not None and chat.type != chat.PRIVATE:
            # Wegweiser talks to people one to one; group chats could leak what it says.
            raise ApplicationHandlerStop
        person = await people.ensure_person(session, user.id, context.now())
        if person.language is None and (phone_language := supported_language(user.language_code)):
            # Remembered at once, so reminders reach people who never sent /start in their language.
            await people.set_language(session, person, phone_language)
        chosen = person.language
        context.viewer = Viewer(
            person_id=person.id,
            telegram_id=person.telegram_id,
            language=chosen or supported_language(user.language_code) or runtime.default_language,
            role=person.role,
            language_chosen=chosen is not None,
        )


async def record_membership(update: Update, context: BotContext) -> None:
    """Mark a person as having blocked the bot, so nothing is sent to them until they return."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    if change.new_chat_member.status == change.new_chat_member.BANNED:
        async with session_scope(context.runtime.sessions) as session:
            await people.mark_blocked(session, change.chat.id, context.now())
    elif change.old_chat_member.status == change.old_chat_member.BANNED:
        async with session_scope(context.runtime.sessions) as session:
            await people.ensure_person(session, change.chat.id, context.now())


def gate_handlers() -> list[BaseHandler]:
    """The gate, for group -1."""
    return [TypeHandler(Update, admit_update)]


def handlers() -> list[BaseHandler]:
    return [ChatMemberHandler(record_membership, ChatMemberHandler.MY_CHAT_MEMBER)]
