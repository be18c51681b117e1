"""The advisor profile rules on SQLite and PostgreSQL, as the bot's /hours and ``wegweiser hours``
share them: weekly hours, absences (never over, never silently over bookings), languages, place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import advisors, booking, consent, people
from storage.booking import BookingPolicy
from storage.db import SessionFactory, session_scope
from storage.errors import DomainError
from storage.models import Absence, AppointmentSlot, Person, Role

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Hemmingen
TUESDAY_9 = datetime(2026, 3, 3, 9, 0, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
async def anna(sessions: SessionFactory) -> Person:
    async with session_scope(sessions) as session:
        advisor = await people.add_staff(session, 500, Role.ADVISOR, "Anna", NOW)
        await advisors.set_weekly_hours(session, advisor.id, 1, "09:00-12:00")
        await advisors.set_languages(session, advisor.id, "de, ar")
        return advisor


async def refusal(
    sessions: SessionFactory, change: Callable[[AsyncSession], Awaitable[object]]
) -> DomainError:
    """The refusal of a change; the transaction around it changes nothing."""
    async with session_scope(sessions) as session:
        with pytest.raises(DomainError) as refused:
            await change(session)
    return refused.value


@pytest.mark.parametrize(
    ("ranges", "reason"),
    [
        ("9 to 12", "hours_format"),
        ("09:00-12:00, 11:00-13:00", "hours_format"),
        ("09:15-12:00", "hours_grid"),
    ],
)
async def test_wrong_hours_are_refused_and_change_nothing(
    sessions: SessionFactory, anna: Person, ranges: str, reason: str
) -> None:
    refused = await refusal(sessions, lambda session: advisors.set_weekly_hours(session, anna.id, 1, ranges))

    assert refused.reason == reason
    async with sessions() as session:
        assert await advisors.weekly_hours(session, anna.id) == {1: [("09:00", "12:00")]}


async def test_a_single_dash_clears_a_day(sessions: SessionFactory, anna: Person) -> None:
    async with session_scope(sessions) as session:
        await advisors.set_weekly_hours(session, anna.id, 1, "-")
    async with sessions() as session:
        assert await advisors.weekly_hours(session, anna.id) == {}


@pytest.mark.parametrize(
    ("first", "last", "reason"),
    [
        (date(2026, 3, 14), date(2026, 3, 10), "absence_order"),
        (date(2026, 2, 2), date(2026, 2, 6), "absence_past"),
    ],
)
async def test_an_absence_that_is_reversed_or_already_over_is_refused(
    sessions: SessionFactory, anna: Person, first: date, last: date, reason: str
) -> None:
    refused = await refusal(
        sessions, lambda session: advisors.add_absence(session, anna.id, first, last, zone=BERLIN, now=NOW)
    )

    assert refused.reason == reason
    async with sessions() as session:
        assert await session.scalar(select(func.count(Absence.id))) == 0


def test_typed_absences_are_read_or_refused() -> None:
    assert advisors.parse_absence("2026-03-10 – 2026-03-14") == (date(2026, 3, 10), date(2026, 3, 14))
    assert advisors.parse_absence(" 2026-03-10 ") == (date(2026, 3, 10), date(2026, 3, 10))
    for text in ("next week", "2026-02-30"):
        with pytest.raises(DomainError, match="absence_format"):
            advisors.parse_absence(text)


async def book_amira(sessions: SessionFactory, anna: Person) -> int:
    async with session_scope(sessions) as session:
        amira = await people.ensure_person(session, 1, NOW)
        await consent.give_booking_consent(session, amira.id, "ar", NOW)
        appointment = await booking.book(
            session,
            BookingPolicy(zone=BERLIN),
            NOW,
            person=amira,
            advisor_id=anna.id,
            starts_at=TUESDAY_9,
            topic="work",
            language="ar",
            interpreter=False,
            first_name="Amira",
        )
        return appointment.id


async def test_an_absence_over_a_booking_asks_first_then_cancels_or_keeps_as_told(
    sessions: SessionFactory, anna: Person
) -> None:
    appointment_id = await book_amira(sessions, anna)
    tuesday = date(2026, 3, 3)

    refused = await refusal(
        sessions,
        lambda session: advisors.add_absence(session, anna.id, tuesday, tuesday, zone=BERLIN, now=NOW),
    )
    assert refused.reason == "absence_booked"
    assert [(appointment.id, case.first_name) for appointment, case in refused.details["appointments"]] == [
        (appointment_id, "Amira")
    ]

    async with session_scope(sessions) as session:
        kept = await advisors.add_absence(
            session, anna.id, tuesday, tuesday, zone=BERLIN, now=NOW, cancel_appointments=False
        )
        assert kept.cancelled == ()
    async with session_scope(sessions) as session:
        cancelled = await advisors.add_absence(
            session, anna.id, tuesday, tuesday, zone=BERLIN, now=NOW, cancel_appointments=True
        )
        assert [appointment.id for appointment, _case in cancelled.cancelled] == [appointment_id]
    async with sessions() as session:
        appointment = await booking.advisor_appointment(session, appointment_id, anna.id)
        assert (appointment.status, appointment.cancelled_by) == ("cancelled", "advisor")
        assert await session.scalar(select(func.count(AppointmentSlot.id))) == 2, "the time stays blocked"
        assert await session.scalar(select(func.count(Absence.id))) == 2


async def test_languages_and_place_follow_the_rules(sessions: SessionFactory, anna: Person) -> None:
    for change, reason in (
        (lambda session: advisors.set_languages(session, anna.id, "de, klingon"), "languages"),
        (lambda session: advisors.set_place(session, anna.id, "  "), "place_empty"),
        (lambda session: advisors.set_place(session, anna.id, "x" * 201), "place_long"),
    ):
        assert (await refusal(sessions, change)).reason == reason
    async with session_scope(sessions) as session:
        assert await advisors.set_languages(session, anna.id, "AR, de ar") == ["ar", "de"]
        assert await advisors.set_place(session, anna.id, " Rathaus, Zimmer 12 ") == "Rathaus, Zimmer 12"
        assert await advisors.set_place(session, anna.id, "-") is None
    async with sessions() as session:
        profile = await advisors.profile(session, anna.id)
        assert (profile.languages, profile.place) == (["ar", "de"], None)


async def test_only_advisors_pass_as_advisors(sessions: SessionFactory, anna: Person) -> None:
    async with session_scope(sessions) as session:
        await people.add_staff(session, 501, Role.ADMIN, "Jonas", NOW)
        assert (await advisors.advisor_or_refuse(session, 500)).id == anna.id
        for telegram_id in (501, 999):
            with pytest.raises(DomainError, match="not_yours"):
                await advisors.advisor_or_refuse(session, telegram_id)
