"""Staff-only commands are refused to everyone else, in their language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from locales import Translator
from storage import people
from storage.db import session_scope
from storage.models import Role
from tests.support.harness import BotUnderTest

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
