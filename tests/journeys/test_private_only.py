"""Nothing is said into groups or channels: every update that is not from a person in their
private chat stops at the gate, before any answer and before anything is stored."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import Person, ProcessedUpdate
from tests.support.harness import BotUnderTest

GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Nachbarschaftshilfe"}
CHANNEL = {"id": -1009876543210, "type": "channel", "title": "Neuigkeiten"}
PERSON = {"id": 7001, "is_bot": False, "first_name": "Amira", "language_code": "ar"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
OTHER_BOT = {"id": 5550001, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}


def message(chat: dict[str, Any], sender: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": 1, "date": int(time.time()), "chat": chat, **fields}
    if sender is not None:
        body["from"] = sender
    return body


PRIVATE_CHAT = {"id": PERSON["id"], "type": "private", "first_name": "Amira"}
KINDS = {
    "an anonymous group admin's search": (
        "message",
        message(GROUP, ANONYMOUS_ADMIN, sender_chat=GROUP, text="Deutschkurs"),
    ),
    "a person's command in a group": ("message", message(GROUP, PERSON, text="Deutschkurs")),
    "a channel post forwarded into its discussion group": (
        "message",
        message(GROUP, TELEGRAM, sender_chat=CHANNEL, is_automatic_forward=True, text="Fußball"),
    ),
    "a channel post": ("channel_post", message(CHANNEL, None, sender_chat=CHANNEL, text="/start")),
    "another bot in a group": ("message", message(GROUP, OTHER_BOT, text="/help")),
    "a service message in a group": (
        "message",
        message(GROUP, PERSON, new_chat_members=[PERSON]),
    ),
    "a service message in the private chat": (
        "message",
        message(PRIVATE_CHAT, PERSON, pinned_message=message(PRIVATE_CHAT, PERSON, text="hallo")),
    ),
    "a tap on a button in a group": (
        "callback_query",
        {
            "id": "4711",
            "from": PERSON,
            "chat_instance": "1",
            "data": "menu:help",
            "message": message(GROUP, OTHER_BOT, text="…"),
        },
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_nothing_is_said_and_nothing_stored_for(bot: BotUnderTest, kind: str) -> None:
    assert bot.application is not None and bot.application.updater is not None
    if kind == "a channel post":
        # Wegweiser does not ask for channel posts; deliver one anyway, as a misconfigured
        # allowed_updates list would.
        await bot.application.updater.stop()
        await bot.application.updater.start_polling(poll_interval=0, timeout=5, allowed_updates=None)
    update_kind, payload = KINDS[kind]
    calls_before = len(bot.world.calls)

    update_id = await bot.world.inject_update(update_kind, payload)
    await bot.processed(update_id)

    answers = [call for call in bot.world.calls[calls_before:] if call.lower() != "getupdates"]
    assert answers == []
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 0
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0


async def test_a_person_in_their_private_chat_still_gets_an_answer(bot: BotUnderTest) -> None:
    update_id = await bot.world.inject_update("message", message(PRIVATE_CHAT, PERSON, text="/help"))
    bot.world.add_person(PERSON["id"], "Amira", "ar").started = True

    await bot.processed(update_id)

    assert bot.world.calls.count("sendMessage") == 1
