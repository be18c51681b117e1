"""The gate every update passes first (handler group -1): only people in their private chat with
the bot get further; each update is handled once; the person is known and their language set.

It also records when a person blocks or unblocks the bot (``my_chat_member`` updates).
"""

from __future__ import annotations

import logging

from telegram import Chat, ChatMemberUpdated, Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, ChatMemberHandler, TypeHandler, filters

from handlers.context import BotContext, Viewer
from locales import supported_language
from storage import admission, claim_batches, people
from storage.db import session_scope

GATE_GROUP = -1
log = logging.getLogger(__name__)


def from_a_person_in_private(update: Update) -> bool:
    """Whether the update comes from a person (not a bot, a channel or an anonymous group admin)
    in their private chat with the bot, and is not a service message. Wegweiser talks to people
    one to one: anything it said in a group or channel could leak what it knows about someone."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != Chat.PRIVATE:
        return False
    message = update.message or update.edited_message
    if message is None:
        return update.callback_query is not None or update.my_chat_member is not None
    return message.sender_chat is None and not filters.StatusUpdate.ALL.check_update(update)


def _typed_text(update: Update) -> bool:
    message = update.message or update.edited_message
    return message is not None and message.text is not None and not message.text.startswith("/")


async def admit_update(update: Update, context: BotContext) -> None:
    """Stop what is not from a person in private; drop an update seen before; know the person."""
    if not from_a_person_in_private(update):
        raise ApplicationHandlerStop
    runtime = context.runtime
    user = update.effective_user
    assert user is not None
    phone_language = supported_language(user.language_code)
    typed = _typed_text(update)
    known = None if typed else admission.remembered(runtime.sessions, user.id, phone_language)
    admitted: bool | admission.Admission | None
    if update.my_chat_member is not None:
        admitted = await claim_batches.claim(runtime.sessions, update.update_id, context.now())
    elif known is not None:
        # Nothing to write about a person the cache knows: the claim joins the next batch.
        claimed = await claim_batches.claim(runtime.sessions, update.update_id, context.now())
        admitted = admission.Admission(known) if claimed else None
    else:
        async with session_scope(runtime.sessions) as session:
            # Remembered at once, so reminders reach people who never sent /start in their language.
            admitted = await admission.admit(
                session, update.update_id, user.id, context.now(), phone_language, read_waiting=typed
            )
    if not admitted:
        log.info("update %s was delivered twice; handled once", update.update_id)
        raise ApplicationHandlerStop
    if isinstance(admitted, admission.Admission):
        person = admitted.person
        context.viewer = Viewer(
            person_id=person.id,
            telegram_id=person.telegram_id,
            language=person.language or supported_language(user.language_code) or runtime.default_language,
            role=person.role,
            language_chosen=person.language is not None,
            waiting=admitted.waiting,
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
