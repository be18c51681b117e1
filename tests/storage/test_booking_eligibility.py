"""Who may be booked, re-checked at confirm on SQLite and PostgreSQL: someone with a case books
their own advisor, anyone else an advisor who speaks their language, and when nobody does the
appointment is marked as needing an interpreter. A button naming another advisor books nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage import advisors, booking, consent, people
from storage.booking import BookingPolicy, BookingRefused
from storage.db import SessionFactory, session_scope
from storage.models import Appointment, Case, Person, Role
from storage.slots import free_slots

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Hemmingen
POLICY = BookingPolicy(zone=BERLIN)
TUESDAY_9 = datetime(2026, 3, 3, 9, 0, tzinfo=BERLIN).astimezone(UTC)
TUESDAY_11 = datetime(2026, 3, 3, 11, 0, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
async def team(sessions: SessionFactory) -> dict[str, Person]:
    """Anna speaks German and Arabic, Ben English; both consult on Tuesdays 09:00-12:00."""
    found = {}
    async with session_scope(sessions) as session:
        for telegram_id, name, languages in ((500, "Anna", ["de", "ar"]), (501, "Ben", ["en"])):
            member = await people.add_staff(session, telegram_id, Role.ADVISOR, name, NOW)
            await advisors.set_weekly_hours(session, member.id, 1, "09:00-12:00")
            (await advisors.profile(session, member.id)).languages = languages
            found[name] = member
    return found


async def newcomer(sessions: SessionFactory, telegram_id: int) -> Person:
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, telegram_id, NOW)
        await consent.give_booking_consent(session, person.id, "ar", NOW)
        return person


async def book(
    sessions: SessionFactory, person: Person, advisor: Person, starts_at: datetime, language: str
) -> Appointment:
    async with session_scope(sessions) as session:
        return await booking.book(
            session,
            POLICY,
            NOW,
            person=person,
            advisor_id=advisor.id,
            starts_at=starts_at,
            topic="work",
            language=language,
            interpreter=False,
        )


async def appointments(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count(Appointment.id))) or 0)


async def test_someone_with_a_case_cannot_book_another_advisor_with_a_forged_button(
    sessions: SessionFactory, team: dict[str, Person]
) -> None:
    amira = await newcomer(sessions, 1)
    await book(sessions, amira, team["Anna"], TUESDAY_9, "ar")
    async with session_scope(sessions) as session:
        case = await session.scalar(select(Case).where(Case.person_id == amira.id))
        assert case is not None
        case.advisor_id = team["Anna"].id
        offered = {slot.advisor_id for slot in await free_slots(session, POLICY, NOW, amira.id, "en", False)}
    assert offered == {team["Anna"].id}, "only her own advisor is offered, whatever the language"

    with pytest.raises(BookingRefused) as refused:
        await book(sessions, amira, team["Ben"], TUESDAY_11, "en")

    assert refused.value.reason == "advisor"
    assert await appointments(sessions) == 1


async def test_an_advisor_who_does_not_speak_the_language_cannot_be_forged_in_while_one_does(
    sessions: SessionFactory, team: dict[str, Person]
) -> None:
    karim = await newcomer(sessions, 2)

    with pytest.raises(BookingRefused) as refused:
        await book(sessions, karim, team["Ben"], TUESDAY_9, "ar")

    assert refused.value.reason == "advisor"
    assert await appointments(sessions) == 0
    booked = await book(sessions, karim, team["Anna"], TUESDAY_9, "ar")
    assert (booked.advisor_id, booked.interpreter) == (team["Anna"].id, False)


async def test_when_nobody_speaks_the_language_the_booking_needs_an_interpreter(
    sessions: SessionFactory, team: dict[str, Person]
) -> None:
    olena = await newcomer(sessions, 3)
    async with session_scope(sessions) as session:
        offered = await free_slots(session, POLICY, NOW, olena.id, "uk", False)
    assert offered and all(slot.interpreter for slot in offered), "every time says so before booking"

    booked = await book(sessions, olena, team["Ben"], TUESDAY_9, "uk")

    async with sessions() as session:
        stored = await session.get(Appointment, booked.id)
        assert stored is not None
        assert (stored.language, stored.interpreter) == ("uk", True)


async def test_moving_to_an_advisor_one_may_not_book_is_refused(
    sessions: SessionFactory, team: dict[str, Person]
) -> None:
    karim = await newcomer(sessions, 4)
    booked = await book(sessions, karim, team["Anna"], TUESDAY_9, "ar")

    async with session_scope(sessions) as session:
        with pytest.raises(BookingRefused) as refused:
            await booking.move(session, POLICY, NOW, booked.id, karim.id, team["Ben"].id, TUESDAY_11)

    assert refused.value.reason == "advisor"
    async with sessions() as session:
        kept = await session.get(Appointment, booked.id)
        assert kept is not None and (kept.advisor_id, kept.starts_at) == (team["Anna"].id, TUESDAY_9)
