"""Builders for case records in storage tests: people, cases, appointments, plans and reviews,
made straight from the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appointment, Case, Goal, Person, Review, Role

BERLIN = ZoneInfo("Europe/Berlin")
_numbers = count(1)


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Hemmingen wall-clock time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def add_person(
    session: AsyncSession, telegram_id: int, staff_name: str | None = None, seen: datetime | None = None
) -> Person:
    seen = seen or datetime(2026, 1, 1, tzinfo=UTC)
    person = Person(
        telegram_id=telegram_id,
        role=Role.ADVISOR if staff_name else Role.REFUGEE,
        staff_name=staff_name,
        first_seen=seen,
        last_seen=seen,
    )
    session.add(person)
    await session.flush()
    return person


async def add_case(
    session: AsyncSession,
    person: Person | None,
    *,
    status: str = "active",
    opened_at: datetime | None = None,
    closed_at: datetime | None = None,
    first_name: str | None = "Amira",
    language: str | None = None,
) -> Case:
    case = Case(
        number=f"W-T{next(_numbers):05d}",
        person_id=person.id if person else None,
        first_name=first_name,
        status=status,
        opened_at=opened_at or datetime(2026, 1, 2, tzinfo=UTC),
        closed_at=closed_at,
        language=language,
    )
    session.add(case)
    await session.flush()
    return case


async def add_appointment(
    session: AsyncSession,
    case: Case,
    starts_at: datetime,
    *,
    advisor: Person | None,
    status: str = "attended",
    kind: str = "follow_up",
    language: str | None = "ar",
) -> Appointment:
    appointment = Appointment(
        case_id=case.id,
        person_id=case.person_id,
        advisor_id=advisor.id if advisor else None,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        kind=kind,
        topic="housing",
        language=language,
        interpreter=False,
        status=status,
        booked_at=starts_at - timedelta(days=7),
    )
    session.add(appointment)
    await session.flush()
    return appointment


async def add_goal(session: AsyncSession, case: Case, created_at: datetime, text: str = "token") -> Goal:
    goal = Goal(
        case_id=case.id, area="language", goal=text, steps=None, created_at=created_at, updated_at=created_at
    )
    session.add(goal)
    await session.flush()
    return goal


async def add_review(
    session: AsyncSession, case: Case, held_on: datetime, by: Person | None = None, text: str = "token"
) -> Review:
    review = Review(
        case_id=case.id,
        held_on=held_on.astimezone(BERLIN).date(),
        summary=text,
        created_by=by.id if by else None,
        created_at=held_on,
    )
    session.add(review)
    await session.flush()
    return review


async def add_booked_appointments(
    session: AsyncSession, count: int, first_person: int, starts_at: datetime, apart: timedelta
) -> list[Appointment]:
    """``count`` people (Telegram ids from ``first_person``), each with a case and an appointment
    booked with one advisor (``first_person - 1``), the first at ``starts_at``, each ``apart``."""
    advisor = await add_person(session, first_person - 1, staff_name="Anna Berger")
    appointments = []
    for index in range(count):
        person = await add_person(session, first_person + index)
        case = await add_case(session, person)
        appointments.append(
            await add_appointment(session, case, starts_at + apart * index, advisor=advisor, status="booked")
        )
    return appointments
