"""The bot stays up: Telegram answering 429, a person who blocked the bot, redelivered updates,
a failing operation."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.sandbox.world import Fault
from handlers.start import welcome_text
from locales import Translator
from storage.models import Person, ProcessedUpdate
from tests.support.harness import BotUnderTest


def t(language: str) -> Translator:
    return Translator(language, ZoneInfo("Europe/Berlin"))


async def person_row(bot: BotUnderTest, telegram_id: int) -> Person | None:
    async with bot.sessions() as session:
        return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def test_a_429_from_telegram_is_waited_out_and_the_answer_still_arrives(bot: BotUnderTest) -> None:
    person = bot.person(5000, "Amira", "ar")
    bot.world.faults.append(Fault("sendMessage", "retry_after", count=1, retry_after=1))

    (reply,) = await person.send("/start")

    assert reply.html == welcome_text(t("ar"), "Hemmingen")
    assert bot.world.calls.count("sendMessage") == 2, "refused once with retry_after, then sent"


async def test_blocking_and_returning_is_recorded(bot: BotUnderTest) -> None:
    person = bot.person(5001, "Olena", "uk")
    await person.send("/start")

    await person.block()

    stored = await person_row(bot, 5001)
    assert stored is not None and stored.blocked_at == bot.clock.current

    (reply,) = await person.send("/start")
    assert reply.html == welcome_text(t("uk"), "Hemmingen")
    assert (await person_row(bot, 5001)).blocked_at is None


async def test_a_send_refused_with_403_marks_the_person_and_the_bot_stays_up(bot: BotUnderTest) -> None:
    person = bot.person(5002, "Ali", "fa")
    other = bot.person(5003, "Olena", "uk")
    bot.world.faults.append(Fault("sendMessage", "blocked", count=1))

    assert await person.send("/start") == []

    assert (await person_row(bot, 5002)).blocked_at is not None
    (reply,) = await other.send("/start")
    assert reply.html == welcome_text(t("uk"), "Hemmingen")


async def test_a_redelivered_update_is_handled_once(bot: BotUnderTest) -> None:
    person = bot.person(5004, "Amira", "ar")
    update_id = await bot.world.person_sends(person.id, "/help")
    await bot.processed(update_id)
    bot.application.processed.pop(update_id)

    await bot.world.redeliver(update_id)
    await bot.processed(update_id)

    assert len(person.bot_messages) == 1
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


async def test_a_failing_step_apologises_in_the_person_language_and_saves_nothing(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = bot.person(5005, "Kenji", "ja")
    (picker,) = await person.send("/start")

    async def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("storage.people.set_language", broken)
    await person.tap("العربية", picker)

    apology = t("de").pgettext(
        "errors",
        "Sorry, something went wrong on our side and your last step was not saved. "
        "Please try again in a moment.",
    )
    assert person.last.text == apology, "before choosing, the person is addressed in the default language"
    assert person.last_query.answered
    assert (await person_row(bot, 5005)).language is None

    monkeypatch.undo()
    await person.tap("العربية", picker)
    assert (await person_row(bot, 5005)).language == "ar"
