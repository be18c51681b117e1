"""What refugees see of the directory and how admins change it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage import offer_files, offers
from storage.db import SessionFactory, session_scope
from storage.hours import opening_state, parse_hours
from storage.models import Offer, OfferStatus, Role
from storage.people import add_staff
from tests.support.harness import OFFERS_FIXTURE

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def loaded(sessions: SessionFactory) -> SessionFactory:
    async with session_scope(sessions) as session:
        await offer_files.import_offers(session, OFFERS_FIXTURE, NOW)
        await add_staff(session, 1, Role.ADMIN, "Jonas", NOW)
        await add_staff(session, 2, Role.ADVISOR, "Anna", NOW)
    return sessions


async def slug_id(sessions: SessionFactory, slug: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(Offer.id).where(Offer.slug == slug)))


async def test_ended_and_archived_offers_are_not_shown(loaded: SessionFactory) -> None:
    football = await slug_id(loaded, "fussballverein")
    async with loaded() as session:
        counts = await offers.category_counts(session, TODAY)
        leisure, pages = await offers.offers_in_category(session, "leisure", TODAY, 0, "de")
        with pytest.raises(offers.OfferUnavailable):
            await offers.offer_for_people(session, football, TODAY)
        still_running = await offers.offer_for_people(session, football, date(2026, 2, 28))
    assert counts == {
        "language": 2,
        "work": 0,
        "housing": 0,
        "health": 0,
        "children": 0,
        "counselling": 0,
        "everyday": 1,
        "leisure": 0,
        "volunteering": 0,
        "families": 0,
    }
    assert (leisure, pages) == ([], 1)
    assert still_running.slug == "fussballverein", "an offer is shown through its last day"


async def test_texts_fall_back_to_german_then_english(loaded: SessionFactory) -> None:
    course_id, cafe_id = await slug_id(loaded, "deutschkurs-vhs"), await slug_id(loaded, "sprachcafe")
    async with loaded() as session:
        course = await offers.offer_for_people(session, course_id, TODAY)
        cafe = await offers.offer_for_people(session, cafe_id, TODAY)
    assert (offers.text_in(course, "uk").text.language, offers.text_in(course, "uk").fallback) == (
        "uk",
        False,
    )
    assert (offers.text_in(course, "fa").text.language, offers.text_in(course, "fa").fallback) == ("de", True)
    assert (offers.text_in(cafe, "en").text.language, offers.text_in(cafe, "en").fallback) == ("de", True)


@pytest.mark.parametrize(
    "query", ["deutschkurs", "Deutsch Kurs", "курс німецької", "دورة لغة ألمانية", "deutschkrus"]
)
async def test_search_finds_across_languages_and_spellings(loaded: SessionFactory, query: str) -> None:
    async with loaded() as session:
        found = await offers.search_offers(session, query, TODAY)
    assert found and found[0].slug == "deutschkurs-vhs"


async def test_search_follows_changes_and_never_shows_hidden_offers(loaded: SessionFactory) -> None:
    tafel = await slug_id(loaded, "tafel")
    async with session_scope(loaded) as session:
        assert [o.slug for o in await offers.search_offers(session, "Lebensmittel", TODAY)] == ["tafel"]
        await offers.set_offer_status(session, 1, tafel, OfferStatus.ARCHIVED, NOW)
    async with loaded() as session:
        assert await offers.search_offers(session, "Lebensmittel", TODAY) == []
    async with session_scope(loaded) as session:
        await offers.set_offer_status(session, 1, tafel, OfferStatus.ACTIVE, NOW)
        await offers.set_offer_text(session, 1, tafel, "en", "name", "Grocery outlet", NOW)
    async with loaded() as session:
        assert [o.slug for o in await offers.search_offers(session, "grocery outlet", TODAY)] == ["tafel"]


@pytest.mark.parametrize("telegram_id", [2, 3, 999])
async def test_only_admins_change_offers(loaded: SessionFactory, telegram_id: int) -> None:
    tafel = await slug_id(loaded, "tafel")
    async with session_scope(loaded) as session:
        for change in (
            offers.set_offer_value(session, telegram_id, tafel, "phone", "+49 1", NOW),
            offers.set_offer_status(session, telegram_id, tafel, OfferStatus.ARCHIVED, NOW),
            offers.mark_verified(session, telegram_id, tafel, TODAY, NOW),
            offers.set_offer_text(session, telegram_id, tafel, "de", "name", "X", NOW),
        ):
            with pytest.raises(offers.NotAllowed):
                await change
    async with loaded() as session:
        offer = await session.get(Offer, tafel)
        assert (offer.status, offer.phone) == ("active", None)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("phone", "ring me", "phone"),
        ("email", "x@", "email"),
        ("website", "ftp://x.org", "website"),
        ("hours", "mon 12:00-09:00", "hours"),
        ("category", "sports", "category"),
        ("ends_on", "31.12.2026", "date"),
        ("languages", "Deutsch!", "languages"),
        ("barrier_free", "maybe", "yes_no"),
        ("address", "x" * 201, "too_long"),
    ],
)
async def test_wrong_values_are_refused_with_a_reason(
    loaded: SessionFactory, field: str, value: str, reason: str
) -> None:
    tafel = await slug_id(loaded, "tafel")
    async with session_scope(loaded) as session:
        with pytest.raises(offers.InvalidValue) as refused:
            await offers.set_offer_value(session, 1, tafel, field, value, NOW)
    assert refused.value.reason == reason


async def test_new_languages_come_from_files_not_half_translations(loaded: SessionFactory) -> None:
    tafel = await slug_id(loaded, "tafel")
    async with session_scope(loaded) as session:
        with pytest.raises(offers.InvalidValue) as refused:
            await offers.set_offer_text(session, 1, tafel, "ar", "name", "بنك الطعام", NOW)
    assert refused.value.reason == "language"


async def test_offers_needing_attention(loaded: SessionFactory) -> None:
    async with loaded() as session:
        attention = await offers.offers_needing_attention(session, TODAY)
    assert [o.slug for o in attention.stale] == ["tafel"]
    assert [o.slug for o in attention.ended] == ["fussballverein"]


def test_opening_hours_keep_local_wall_time_across_the_dst_change() -> None:
    hours = parse_hours("sat 09:00-12:00; sun 09:00-12:00; mon 09:00-12:00")
    saturday_evening = datetime(2026, 3, 28, 18, 0, tzinfo=UTC)  # before the change, 19:00 CET
    state = opening_state(hours, saturday_evening, BERLIN)
    assert state.opens_at.astimezone(BERLIN).hour == 9
    assert state.opens_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC), "Sunday 09:00 CEST is 07:00 UTC"


def test_public_holidays_in_baden_wuerttemberg_are_closed() -> None:
    hours = parse_hours("mon 09:00-12:00; tue 09:00-12:00")
    easter_monday_morning = datetime(2026, 4, 6, 8, 0, tzinfo=UTC)
    state = opening_state(hours, easter_monday_morning, BERLIN)
    assert not state.open_now and state.holiday_today
    assert state.opens_at.astimezone(BERLIN).date() == date(2026, 4, 7)
    epiphany = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)  # a holiday in BW, not everywhere in Germany
    assert not opening_state(parse_hours("tue 09:00-12:00"), epiphany, BERLIN).open_now


@pytest.mark.parametrize(
    "bad", ["mon 9-12", "mon 12:00-09:00", "funday 09:00-10:00", "mon 09:00-12:00, 11:00-13:00"]
)
def test_unreadable_opening_hours_are_refused(bad: str) -> None:
    from storage.hours import HoursError

    with pytest.raises(HoursError):
        parse_hours(bad)
