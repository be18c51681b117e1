"""Every inline button is answered exactly once, whatever its data: old buttons after a consent was
withdrawn, the same button in an older message, and a storm of random, forged and stale taps. The
sandbox refuses a second answer, as Telegram does, and the ``bot`` fixture fails on any refusal."""

from __future__ import annotations

import logging
import random
from types import ModuleType

import pytest
from sqlalchemy import func, select

from handlers import (
    admin,
    admin_edit,
    advisor,
    advisor_cancel,
    advisor_hours,
    appointments,
    booking,
    keyboards,
    offers,
    privacy_texts,
    referrals,
)
from handlers.callbacks import Action
from storage.models import Appointment, Offer, Role
from tests.journeys.test_booking import ADVISOR, book_through_the_bot, consultations, t
from tests.support.harness import BotUnderTest

__all__ = ["consultations"]  # the fixture, shared with the booking journeys

JOURNEYS: tuple[ModuleType, ...] = (
    admin,
    admin_edit,
    advisor,
    advisor_cancel,
    advisor_hours,
    appointments,
    booking,
    keyboards,
    offers,
    privacy_texts,
    referrals,
)


def every_action() -> list[Action]:
    """Each kind of button once (journeys import each other's actions)."""
    found = {
        id(value): value
        for module in JOURNEYS
        for value in vars(module).values()
        if isinstance(value, Action)
    }
    return list(found.values())


def unanswered(bot: BotUnderTest) -> list[str]:
    return [query.data for query in bot.world.callback_queries.values() if not query.answered]


async def appointment_count(bot: BotUnderTest) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Appointment)) or 0)


def test_every_button_has_an_action_name_of_its_own() -> None:
    names = [action.name for action in every_action()]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


async def test_an_old_confirm_button_after_withdrawing_the_consent_says_why_and_answers_once(
    consultations: BotUnderTest,
) -> None:
    olena = consultations.person(9101, "Olena", "uk")
    ukrainian = t("uk")
    await book_through_the_bot(olena, "uk")
    summary = olena.last
    (privacy,) = await olena.send("/privacy")
    await olena.tap("pwdraw:booking", privacy)

    await olena.tap(ukrainian.pgettext("booking", "✅ Book this appointment"), summary)

    assert olena.last_query.answered
    # The old summary (edited in place) now says why, and what to do.
    assert summary.html.startswith(booking.consent_missing_text(ukrainian))
    retention = consultations.application.bot_data.runtime.retention
    assert booking.consent_text(ukrainian, "Hemmingen", retention) in summary.html
    assert [b["callback_data"] for b in summary.buttons] == ["bagree:yes:-", "bagree:no:-"]
    assert await appointment_count(consultations) == 0
    assert unanswered(consultations) == []


async def test_an_old_booking_step_after_withdrawing_the_consent_still_leads_to_the_consent(
    consultations: BotUnderTest,
) -> None:
    jana = consultations.person(9102, "Jana", "de")
    german = t("de")
    await book_through_the_bot(jana, "de")
    summary = jana.last
    (privacy,) = await jana.send("/privacy")
    await jana.tap("pwdraw:booking", privacy)

    await jana.tap(german.pgettext("booking", "↩ Another time"), summary)
    await jana.tap(summary.buttons[1]["callback_data"], summary)
    await jana.tap(german.pgettext("booking", "✅ Book this appointment"), summary)

    assert summary.html.startswith(booking.consent_missing_text(german))
    assert await appointment_count(consultations) == 0
    assert unanswered(consultations) == []


async def test_the_same_withdraw_button_in_an_older_message_answers_once_and_shows_the_present(
    consultations: BotUnderTest,
) -> None:
    amira = consultations.person(9103, "Amira", "ar")
    arabic = t("ar")
    await book_through_the_bot(amira, "ar")
    await amira.tap(arabic.pgettext("booking", "✅ Book this appointment"))
    (older,) = await amira.send("/privacy")
    (newer,) = await amira.send("/privacy")
    await amira.tap("pwdraw:reminders", newer)

    await amira.tap("pwdraw:reminders", older)

    query = amira.last_query
    assert query.answered and query.show_alert
    assert query.answer_text == arabic.pgettext("privacy", "This consent is no longer in force.")
    assert "pwdraw:reminders" not in [b["callback_data"] for b in older.buttons], "the present state"
    assert "pwdraw:booking" in [b["callback_data"] for b in older.buttons]
    assert unanswered(consultations) == []


def random_data(rng: random.Random, actions: list[Action], pool: list[str]) -> str:
    """Button data as a modified client might send it: well-formed for some action, almost, or junk."""
    kind = rng.random()
    if kind < 0.6:
        action = rng.choice(actions)
        return ":".join([action.name, *(rng.choice(pool) for _ in action.fields)])
    if kind < 0.8:
        action = rng.choice(actions)
        return ":".join([action.name, *(rng.choice(pool) for _ in range(rng.randint(0, 5)))])
    junk = "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyz0123456789:-_²€ ") for _ in range(rng.randint(0, 80))
    )
    return junk if rng.random() < 0.9 else "x" * 65


async def test_a_storm_of_random_forged_and_stale_taps_is_answered_once_each(
    consultations: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    await consultations.load_offers()
    await consultations.make_staff(9200, Role.ADMIN, "Jonas Admin")
    olena = consultations.person(9104, "Olena", "uk")
    await book_through_the_bot(olena, "uk")
    await olena.tap(t("uk").pgettext("booking", "✅ Book this appointment"))
    async with consultations.sessions() as session:
        appointment_ids = [str(i) for i in (await session.scalars(select(Appointment.id))).all()]
        offer_ids = [str(i) for i in (await session.scalars(select(Offer.id))).all()][:3]
    pool = [
        *appointment_ids,
        *offer_ids,
        "0",
        "1",
        "7",
        "999999999",
        "-1",
        "²",
        "",
        "-",
        "s",
        "i",
        "yes",
        "no",
        "de",
        "uk",
        "housing",
        "booking",
        "reminders",
        "home",
        "book",
        "privacy",
        "20260303",
        "20260399",
        "29541600",
        "archive",
        "name",
        "phone",
        "category",
        "emergency",
    ]
    actions = every_action()
    people = [olena, consultations.person(ADVISOR), consultations.person(9200, "Jonas", "de")]
    await people[2].send("/admin")
    rng = random.Random(20261130)
    caplog.set_level(logging.ERROR)

    for _ in range(240):
        person = rng.choice(people)
        message = rng.choice(person.bot_messages[-6:])
        if message.buttons and rng.random() < 0.3:
            data = rng.choice(message.buttons).get("callback_data") or "stale"
        else:
            data = random_data(rng, actions, pool)
        await person.tap_data(message, data, forged=True)
        assert person.last_query.answered, data

    assert unanswered(consultations) == []
    refused = [refusal for refusal in consultations.world.refusals if "not modified" not in refusal[1]]
    assert refused == [], set(refused)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
