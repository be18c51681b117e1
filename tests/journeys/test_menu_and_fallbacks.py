"""Getting around: the main menu's sections, text the bot does not understand, stale buttons."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from handlers.keyboards import MENU_SECTIONS
from handlers.start import help_text
from locales import Translator
from tests.support.harness import BotUnderTest
from tests.support.scripts import written_in


def t(language: str) -> Translator:
    return Translator(language, ZoneInfo("Europe/Berlin"))


async def test_help_button_shows_help_with_a_way_back(bot: BotUnderTest) -> None:
    person = bot.person(4001, "Olena", "uk")
    (menu,) = await person.send("/start")

    await person.tap("menu:help", menu)

    assert person.last.html == help_text(t("uk"), "Hemmingen")
    assert [button["callback_data"] for button in person.last.buttons] == ["menu:home"]


@pytest.mark.parametrize("language", ["ar", "ru", "de"])
async def test_text_without_anything_to_search_for_gets_help_never_silence(
    bot: BotUnderTest, language: str
) -> None:
    person = bot.person(4002, "Ali", language)

    (reply,) = await person.send("hello!! <b> & ?")

    assert reply.text == t(language).pgettext(
        "offers",
        "What are you looking for? Type a word, for example “German course”, “doctor” or “football”.",
    )
    assert [button["callback_data"] for button in reply.buttons] == ["cats"]


async def test_a_sticker_or_photo_gets_help_too(bot: BotUnderTest) -> None:
    person = bot.person(4007, "Ali", "uk")
    update_id = bot.world._queue_update(
        "message",
        {
            "message_id": 99,
            "date": 0,
            "chat": {"id": 4007, "type": "private", "first_name": "Ali"},
            "from": {"id": 4007, "is_bot": False, "first_name": "Ali", "language_code": "uk"},
            "sticker": {
                "file_id": "x",
                "file_unique_id": "x",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        },
    )
    bot.world.people[4007].started = True
    await bot.world._notify()
    await bot.processed(update_id)

    assert person.last.text == t("uk").pgettext(
        "fallback", "I can only read text messages. Please use the buttons below or type /help."
    )


async def test_an_unknown_command_is_named_safely_in_the_answer(bot: BotUnderTest) -> None:
    person = bot.person(4003, "Ali", "fa")

    (reply,) = await person.send("/<b>bogus")

    assert "/<b>bogus" in reply.text, "the command is shown as typed, escaped for Telegram's HTML"
    assert written_in(reply.text.replace("/<b>bogus", ""), "fa")


async def test_a_very_long_message_gets_an_answer(bot: BotUnderTest) -> None:
    person = bot.person(4004, "Ali", "tr")

    (reply,) = await person.send("ä" * 4096)

    assert reply.buttons, "an answer with a way on"


@pytest.mark.parametrize(
    "forged", ["menu:admin", "lang:xx", "menu:offers:1", "x" * 64, "offer:999999", "lang:de:extra"]
)
async def test_forged_or_stale_button_data_gets_a_clear_answer_and_changes_nothing(
    bot: BotUnderTest, forged: str
) -> None:
    person = bot.person(4005, "Amira", "ar")
    (menu,) = await person.send("/start")

    await person.tap_data(menu, forged, forged=True)

    assert person.last_query.answered
    assert person.last_query.answer_text == t("ar").pgettext("fallback", "This button is no longer valid.")
    assert len(person.last.buttons) == len(MENU_SECTIONS), "the current menu is shown again"
    async with bot.sessions() as session:
        from sqlalchemy import select

        from storage.models import Person

        stored = await session.scalar(select(Person).where(Person.telegram_id == 4005))
    assert stored is not None and stored.language == "ar"


async def test_buttons_keep_working_after_a_restart(bot: BotUnderTest) -> None:
    person = bot.person(4006, "Olena", "uk")
    (menu,) = await person.send("/start")

    await bot.restart()
    await person.tap("menu:help", menu)

    assert person.last.html == help_text(t("uk"), "Hemmingen")
