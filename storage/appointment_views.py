"""Appointments with the people and place around them, and what the advisors' digests list.

Loaded here once for every journey that shows an appointment (the person's confirmation, the
advisor's notice, the agenda) and for the morning agenda and weekly case digests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import booking, case_files
from storage.advisors import default_place
from storage.models import AdvisorProfile, Appointment, Case, Person, Role


@dataclass(frozen=True)
class AppointmentView:
    """An appointment with its case, person, advisor and place."""

    appointment: Appointment
    case: Case
    person: Person | None
    advisor: Person | None
    place: str

    @property
    def minutes(self) -> int:
        """The appointment's length in minutes."""
        return int((self.appointment.ends_at - self.appointment.starts_at).total_seconds() // 60)


async def load_view(session: AsyncSession, appointment_id: int, municipality: str) -> AppointmentView | None:
    """The appointment and everything shown with it; ``None`` when it does not exist."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        return None
    case = await session.get(Case, appointment.case_id)
    person = await session.get(Person, appointment.person_id) if appointment.person_id else None
    advisor = await session.get(Person, appointment.advisor_id) if appointment.advisor_id else None
    profile = await session.get(AdvisorProfile, appointment.advisor_id) if appointment.advisor_id else None
    place = (profile.place if profile and profile.place else None) or default_place(municipality)
    assert case is not None
    return AppointmentView(appointment, case, person, advisor, place)


async def load_views(
    session: AsyncSession, appointment_ids: Sequence[int], municipality: str
) -> dict[int, AppointmentView]:
    """:func:`load_view` for many appointments at once, in three queries; missing ones are left out."""
    if not appointment_ids:
        return {}
    rows = (
        await session.execute(
            select(Appointment, Case)
            .join(Case, Case.id == Appointment.case_id)
            .where(Appointment.id.in_(appointment_ids))
        )
    ).all()
    wanted = {a.person_id for a, _ in rows} | {a.advisor_id for a, _ in rows}
    wanted.discard(None)
    people = {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(wanted)))}
    advisors = {a.advisor_id for a, _ in rows if a.advisor_id is not None}
    places = {
        profile.person_id: profile.place
        for profile in await session.scalars(
            select(AdvisorProfile).where(AdvisorProfile.person_id.in_(advisors))
        )
    }
    return {
        appointment.id: AppointmentView(
            appointment,
            case_,
            people.get(appointment.person_id) if appointment.person_id else None,
            people.get(appointment.advisor_id) if appointment.advisor_id else None,
            (places.get(appointment.advisor_id) if appointment.advisor_id else None)
            or default_place(municipality),
        )
        for appointment, case_ in rows
    }


async def _reachable_advisors(session: AsyncSession) -> list[Person]:
    result = await session.scalars(
        select(Person).where(Person.role == Role.ADVISOR, Person.blocked_at.is_(None)).order_by(Person.id)
    )
    return list(result.all())


async def agenda_digests(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[Person, list[tuple[Appointment, Case]]]]:
    """Each advisor who has not blocked the bot, with their appointments between two instants
    (advisors without any are left out)."""
    found = []
    for advisor in await _reachable_advisors(session):
        rows = await booking.agenda(session, advisor.id, start, end)
        if rows:
            found.append((advisor, rows))
    return found


async def case_digests(session: AsyncSession, today: date) -> list[tuple[Person, dict[str, list[str]]]]:
    """Each advisor who has not blocked the bot, with the case numbers per flag for the weekly
    digest (advisors with nothing flagged are left out)."""
    found = []
    for advisor in await _reachable_advisors(session):
        flags = await case_files.weekly_flags(session, advisor.id, today)
        if any(flags.values()):
            found.append((advisor, flags))
    return found
