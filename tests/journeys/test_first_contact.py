"""First contact: greeting in the phone's language, the language picker, /language, /help."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.start import help_text, welcome_text
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator
from storage.models import Person
from tests.support.harness import BotUnderTest
from tests.support.menus import EVERYONES_COMMANDS
from tests.support.scripts import written_in

MENU_DATA = [
    "menu:offers",
    "menu:week",
    "menu:book",
    "menu:appointments",
    "menu:privacy",
    "menu:language",
    "menu:help",
]


def t(language: str) -> Translator:
    from zoneinfo import ZoneInfo

    return Translator(language, ZoneInfo("Europe/Berlin"))


async def stored_person(bot: BotUnderTest, telegram_id: int) -> Person | None:
    async with bot.sessions() as session:
        return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


@pytest.mark.parametrize(("language", "first_name"), [("ar", "Amira"), ("uk", "Olena"), ("de", "Jana")])
async def test_start_greets_in_the_phone_language_with_the_main_menu(
    bot: BotUnderTest, language: str, first_name: str
) -> None:
    person = bot.person(3000, first_name, language)

    (reply,) = await person.send("/start")

    assert reply.html == welcome_text(t(language), "Hemmingen")
    assert written_in(reply.text, language)
    assert [button["callback_data"] for button in reply.buttons] == MENU_DATA
    stored = await stored_person(bot, 3000)
    assert stored is not None
    assert (stored.language, stored.role, stored.blocked_at) == (language, "refugee", None)
    assert stored.first_seen == bot.clock.current
    assert stored.staff_name is None, "no name is stored for refugees"


async def test_a_phone_in_an_unsupported_language_gets_the_picker_and_keeps_the_choice(
    bot: BotUnderTest,
) -> None:
    kenji = bot.person(3001, "Kenji", "ja")

    (picker,) = await kenji.send("/start")

    assert [button["text"] for button in picker.buttons] == [ENDONYMS[code] for code in SUPPORTED_LANGUAGES]
    assert "Please choose your language." in picker.text
    assert (await stored_person(bot, 3001)).language is None

    await kenji.tap("Українська")

    assert kenji.last_query.answered
    assert kenji.last.message_id == picker.message_id, "the picker turns into the welcome"
    assert kenji.last.html == welcome_text(t("uk"), "Hemmingen")
    assert (await stored_person(bot, 3001)).language == "uk"

    (menu,) = await kenji.send("/menu")
    assert written_in(menu.text, "uk")


async def test_language_command_switches_language_at_any_time(bot: BotUnderTest) -> None:
    amira = bot.person(3002, "Amira", "ar")
    await amira.send("/start")

    (picker,) = await amira.send("/language")
    await amira.tap("ትግርኛ", picker)

    assert (await stored_person(bot, 3002)).language == "ti"
    assert written_in(amira.last.text, "ti")
    (help_reply,) = await amira.send("/help")
    assert help_reply.html == help_text(t("ti"), "Hemmingen")


@pytest.mark.parametrize("language", ["fa", "ru", "tr"])
async def test_help_lists_the_commands_in_the_person_language(bot: BotUnderTest, language: str) -> None:
    person = bot.person(3003, "Sam", language)
    await person.send("/start")

    (reply,) = await person.send("/help")

    assert reply.html == help_text(t(language), "Hemmingen")
    for command in ("/menu", "/language", "/help", "/start"):
        assert command in reply.text
    assert written_in(reply.text, language)


async def test_command_menus_are_set_for_every_language(bot: BotUnderTest) -> None:
    menus = bot.world.commands
    default_scope = '{"type": "default"}'
    for language in SUPPORTED_LANGUAGES:
        commands = menus[(default_scope, language)]
        assert [command["command"] for command in commands] == EVERYONES_COMMANDS
        assert written_in(" ".join(command["description"] for command in commands), language)
    assert menus[(default_scope, "")] == menus[(default_scope, "de")]
    assert menus[(default_scope, "ar")] != menus[(default_scope, "en")]
