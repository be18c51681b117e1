"""Errors are never silent: a bug in what the bot sent (``BadRequest``), a refusal other than a block
and any exception of ours are logged with a traceback and apologised for in the person's language,
truthfully saying whether the step was saved. Only network blips pass with a warning."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from handlers.errors import apology, is_block, is_network_blip
from locales import Translator
from storage.models import Person
from tests.support.harness import BotUnderTest


def t(language: str) -> Translator:
    return Translator(language, ZoneInfo("Europe/Berlin"))


async def person_row(bot: BotUnderTest, telegram_id: int) -> Person:
    async with bot.sessions() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    assert person is not None
    return person


def failing(error: Exception) -> Callable[..., str]:
    """A stand-in for a text function that raises ``error``."""

    def fail(*_args: object, **_kwargs: object) -> str:
        raise error

    return fail


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[type[BaseException]]:
    return [
        type(record.exc_info[1])
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.exc_info and record.exc_info[1] is not None
    ]


@pytest.mark.parametrize(
    ("error", "blip"),
    [
        (TimedOut(), True),
        (NetworkError("connection reset"), True),
        (ConnectionResetError(), True),
        (BadRequest("Can't parse entities"), False),
        (Forbidden("Forbidden: bot can't initiate conversation with a user"), False),
        (Forbidden("Forbidden: bot was blocked by the user"), False),
        (RetryAfter(3), False),
        (TelegramError("something else"), False),
        (RuntimeError("ours"), False),
    ],
)
def test_only_real_network_failures_are_blips(error: Exception, blip: bool) -> None:
    assert is_network_blip(error) is blip


def test_only_a_block_is_a_block() -> None:
    assert is_block(Forbidden("Forbidden: bot was blocked by the user"))
    assert not is_block(Forbidden("Forbidden: bot can't initiate conversation with a user"))
    assert not is_block(BadRequest("Chat not found"))


async def test_a_bad_request_is_a_bug_logged_and_apologised_for_in_the_person_language(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    amira = bot.person(6001, "Amira", "ar")
    await amira.send("/start")
    monkeypatch.setattr("handlers.start.help_text", failing(BadRequest("Can't parse entities")))

    (reply,) = await amira.send("/help")

    assert reply.text == apology(t("ar"), saved=False)
    assert BadRequest in logged_errors(caplog)


async def test_a_failure_after_the_step_was_saved_says_it_was_saved(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kenji = bot.person(6002, "Kenji", "ja")
    (picker,) = await kenji.send("/start")
    monkeypatch.setattr("handlers.start.welcome_text", failing(RuntimeError("render failed")))

    await kenji.tap("العربية", picker)

    assert kenji.last_query.answered
    assert kenji.last.text == apology(t("ar"), saved=True), "saved, and said in the language just chosen"
    assert (await person_row(bot, 6002)).language == "ar"
    assert RuntimeError in logged_errors(caplog)


async def test_a_refusal_other_than_a_block_is_a_bug_and_blocks_nobody(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    olena = bot.person(6003, "Olena", "uk")
    await olena.send("/start")
    refusal = Forbidden("Forbidden: bot can't initiate conversation with a user")
    monkeypatch.setattr("handlers.start.help_text", failing(refusal))

    (reply,) = await olena.send("/help")

    assert reply.text == apology(t("uk"), saved=False)
    assert (await person_row(bot, 6003)).blocked_at is None
    assert Forbidden in logged_errors(caplog)


async def test_a_network_blip_is_a_warning_without_an_apology(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ali = bot.person(6004, "Ali", "fa")
    await ali.send("/start")
    monkeypatch.setattr("handlers.start.help_text", failing(TimedOut()))

    assert await ali.send("/help") == []

    assert logged_errors(caplog) == []
    assert any("network error" in record.getMessage() for record in caplog.records)


async def test_a_failing_button_is_answered_once_before_the_apology(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    jana = bot.person(6005, "Jana", "de")
    (menu,) = await jana.send("/start")
    monkeypatch.setattr("handlers.start.help_text", failing(BadRequest("Can't parse entities")))

    await jana.tap("menu:help", menu)

    assert jana.last_query.answered
    assert jana.last.text == apology(t("de"), saved=False)
