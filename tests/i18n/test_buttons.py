"""Buttons that fit: long names shortened at a word boundary with an ellipsis, untranslated names
marked, and a time picker that leads back to the day picker ("another day")."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers import appointments as mine
from handlers.keyboards import BUTTON_LABEL_LIMIT, button_label
from handlers.offer_cards import offer_button_label
from locales import ENDONYMS, Translator
from storage import advisors, people
from storage.db import session_scope
from storage.models import Appointment, Offer, OfferText, Role
from tests.support.harness import BotUnderTest

BERLIN = ZoneInfo("Europe/Berlin")
LONG_NAME = "Deutschkurs für Frauen mit Kinderbetreuung am Vormittag im Rathaus Hemmingen"


def test_a_long_name_is_shortened_at_a_word_boundary_with_an_ellipsis() -> None:
    label = button_label(LONG_NAME)

    assert len(label) <= BUTTON_LABEL_LIMIT and label.endswith("…")
    assert LONG_NAME.startswith(label.removesuffix("…")) and LONG_NAME[len(label) - 1] == " ", (
        "never mid-word"
    )
    assert label == "Deutschkurs für Frauen mit…"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tafelladen", "Tafelladen"),
        ("  Sprachcafé   für alle ", "Sprachcafé für alle"),
        ("Beratung, Begleitung und Hilfe bei Behörden, Ämtern", "Beratung, Begleitung und Hilfe bei…"),
        ("Donaudampfschifffahrtsgesellschaftskapitänsmütze", "Donaudampfschifffahrtsgesellschaftskapi…"),
    ],
)
def test_labels_that_fit_stay_and_only_a_single_overlong_word_is_cut(text: str, expected: str) -> None:
    assert button_label(text) == expected


def test_an_untranslated_offer_name_is_marked_on_its_button() -> None:
    offer = Offer(slug="kurs", category="language", example=False)
    offer.texts = [OfferText(language="de", name=LONG_NAME, summary="…")]

    assert offer_button_label(Translator("de", BERLIN), offer) == button_label(LONG_NAME)
    arabic = offer_button_label(Translator("ar", BERLIN), offer)
    assert arabic.startswith("🌐 ") and arabic.endswith("…") and len(arabic) <= BUTTON_LABEL_LIMIT


ADVISOR = 9200


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=BERLIN).astimezone(UTC)


async def test_the_time_picker_leads_back_to_the_day_picker_when_booking_and_moving(
    bot: BotUnderTest,
) -> None:
    await bot.make_staff(ADVISOR, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        for weekday in (1, 3):
            await advisors.set_weekly_hours(session, anna.id, weekday, "09:00-12:00")
        (await advisors.profile(session, anna.id)).languages = ["de"]
    await bot.person(ADVISOR, "Anna", "de").send("/start")
    german = Translator("de", BERLIN)
    jana = bot.person(9201, "Jana", "de")
    which_day = german.pgettext("booking", "Which day suits you? These days have free times:")

    (consent,) = await jana.send("/book")
    await jana.tap("bagree:yes:-", consent)
    await jana.tap("btopic:housing:-")
    await jana.tap(ENDONYMS["de"])
    await jana.tap(german.day(local(5, 9).date()))  # Thursday
    assert german.time(local(5, 9)) in [button["text"] for button in jana.last.buttons]
    days = await jana.tap(german.pgettext("booking", "📅 Another day"))
    assert days.text == which_day, "back to the day picker, with the choices made so far"
    await jana.tap(german.day(local(3, 9).date()))  # Tuesday instead
    await jana.tap(german.time(local(3, 10)))
    await jana.tap(german.pgettext("booking", "✅ Book this appointment"))
    async with bot.sessions() as session:
        booked = (await session.scalars(select(Appointment))).one()
    assert booked.starts_at == local(3, 10)

    (listing,) = await jana.send("/appointments")
    await jana.tap(mine.DETAIL.encode(booked.id), listing)
    await jana.tap(mine.MOVE.encode(booked.id))
    await jana.tap(mine.MOVE_DAY.encode(booked.id, "20260305"))
    moving = await jana.tap(german.pgettext("booking", "📅 Another day"))
    assert moving.text == german.pgettext("appointments", "To which day would you like to move it?")
