"""Staff-only commands are refused to everyone else, in their language; staff find theirs in their
own command menu and in /help."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers import commands, start
from locales import Translator
from storage import invites, people
from storage.db import session_scope
from storage.models import Role
from tests.support.harness import BotUnderTest
from tests.support.menus import EVERYONES_COMMANDS

REFUSAL = "This command is only for staff of the integration management."


@pytest.mark.parametrize(("language", "command"), [("ar", "/agenda"), ("uk", "/hours"), ("de", "/desk")])
async def test_refugees_are_refused_staff_commands(bot: BotUnderTest, language: str, command: str) -> None:
    person = bot.person(6000, "Amira", language)

    (reply,) = await person.send(command)

    assert reply.text == Translator(language, ZoneInfo("Europe/Berlin")).pgettext("staff", REFUSAL)


async def test_an_advisor_reaches_the_advisor_commands_and_an_admin_does_not(bot: BotUnderTest) -> None:
    async with session_scope(bot.sessions) as session:
        await people.add_staff(session, 6001, Role.ADVISOR, "Anna", datetime.now(UTC))
        await people.add_staff(session, 6002, Role.ADMIN, "Jonas", datetime.now(UTC))
    advisor = bot.person(6001, "Anna", "de")
    admin = bot.person(6002, "Jonas", "de")
    german = Translator("de", ZoneInfo("Europe/Berlin"))

    (agenda,) = await advisor.send("/agenda")
    (refused,) = await admin.send("/agenda")
    (desk,) = await admin.send("/desk")

    assert agenda.text != german.pgettext("staff", REFUSAL)
    assert refused.text == german.pgettext("staff", REFUSAL)
    assert desk.text != german.pgettext("staff", REFUSAL)


def chat_menu(bot: BotUnderTest, telegram_id: int) -> list[str] | None:
    """The commands Telegram shows in one person's chat (their chat-scoped menu), if any."""
    for (scope, _language), menu in bot.world.commands.items():
        if json.loads(scope) == {"type": "chat", "chat_id": telegram_id}:
            return [command["command"] for command in menu]
    return None


async def test_staff_get_their_own_command_menu_and_lose_it_with_the_role(bot: BotUnderTest) -> None:
    await bot.make_staff(6101, Role.ADVISOR, "Anna Berger")
    await bot.make_staff(6102, Role.ADMIN, "Jonas Admin")
    bot.person(6103, "Amira", "ar")

    await bot.run_job(commands.SYNC_JOB)

    assert chat_menu(bot, 6101) == ["agenda", "hours", "desk", *EVERYONES_COMMANDS]
    assert chat_menu(bot, 6102) == ["admin", "desk", *EVERYONES_COMMANDS]
    assert chat_menu(bot, 6103) is None

    async with session_scope(bot.sessions) as session:
        await people.remove_staff(session, 6101)
    await bot.run_job(commands.SYNC_JOB)

    assert chat_menu(bot, 6101) is None
    assert chat_menu(bot, 6102) == ["admin", "desk", *EVERYONES_COMMANDS]


async def test_an_invitation_gives_the_staff_menu_at_once(bot: BotUnderTest) -> None:
    await bot.make_staff(6104, Role.ADMIN, "Jonas Admin")
    async with session_scope(bot.sessions) as session:
        jonas = await people.person_by_telegram_id(session, 6104)
        token = await invites.create_invite(session, jonas.id, Role.ADVISOR, "Nina Neu", bot.clock())
    nina = bot.person(6105, "Nina", "de")

    await nina.send(f"/start {start.INVITE_PREFIX}{token}")

    assert chat_menu(bot, 6105) == ["agenda", "hours", "desk", *EVERYONES_COMMANDS]


@pytest.mark.parametrize(
    ("role", "listed"),
    [(Role.ADVISOR, ["/agenda", "/hours", "/desk"]), (Role.ADMIN, ["/admin", "/desk"]), (None, [])],
)
async def test_staff_read_their_commands_in_help(
    bot: BotUnderTest, role: Role | None, listed: list[str]
) -> None:
    if role is not None:
        await bot.make_staff(6106, role, "Kim Staff")
    person = bot.person(6106, "Kim", "uk")

    (reply,) = await person.send("/help")

    assert reply.html == start.help_text(
        Translator("uk", ZoneInfo("Europe/Berlin")), "Hemmingen", role or Role.REFUGEE
    )
    staff_commands = [
        command for command in ("/agenda", "/hours", "/admin", "/desk") if command in reply.text
    ]
    assert staff_commands == listed
