"""Free consultation times: which advisors a person may book, and when they are free.

Someone with a case books their own advisor; anyone else an advisor who speaks the chosen language.
When nobody does, or the person asks for one, an interpreter is needed and any advisor can be
booked; each free time says whether it needs one. :func:`check_bookable` re-checks all of this for
the time and advisor a button names, so a forged button books nothing it could not have offered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import BookingRefused
from storage.hours import is_public_holiday, local_moment
from storage.models import (
    Absence,
    AdvisorProfile,
    Appointment,
    AppointmentKind,
    AppointmentSlot,
    AppointmentStatus,
    Case,
    ConsultationHours,
    Person,
    Role,
)

if TYPE_CHECKING:
    from storage.booking import BookingPolicy


@dataclass(frozen=True, order=True)
class Slot:
    """A free time with one advisor; ``interpreter`` says whether booking it needs an interpreter."""

    starts_at: datetime
    advisor_id: int
    ends_at: datetime = field(compare=False)
    interpreter: bool = field(default=False, compare=False)


@dataclass
class _Calendar:
    hours: dict[int, dict[int, list[tuple[str, str]]]]  # advisor → weekday → ranges
    absent: dict[int, list[tuple[date, date]]]
    taken: set[tuple[int, datetime]]


async def _calendar(
    session: AsyncSession, advisor_ids: Sequence[int], start: datetime, end: datetime
) -> _Calendar:
    calendar = _Calendar(defaultdict(lambda: defaultdict(list)), defaultdict(list), set())
    for row in await session.scalars(
        select(ConsultationHours).where(ConsultationHours.advisor_id.in_(advisor_ids))
    ):
        calendar.hours[row.advisor_id][row.weekday].append((row.starts, row.ends))
    for row in await session.scalars(select(Absence).where(Absence.advisor_id.in_(advisor_ids))):
        calendar.absent[row.advisor_id].append((row.first_day, row.last_day))
    rows = await session.execute(
        select(AppointmentSlot.advisor_id, AppointmentSlot.starts_at).where(
            AppointmentSlot.advisor_id.in_(advisor_ids),
            AppointmentSlot.starts_at >= start - timedelta(days=1),
            AppointmentSlot.starts_at < end + timedelta(days=1),
        )
    )
    calendar.taken = {(advisor_id, starts_at) for advisor_id, starts_at in rows.all()}
    return calendar


def units(policy: BookingPolicy, starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The grid units (e.g. half hours) an appointment from ``starts_at`` to ``ends_at`` holds."""
    step = timedelta(minutes=policy.unit_minutes)
    found, current = [], starts_at
    while current < ends_at:
        found.append(current)
        current += step
    return found


def _candidate_starts(
    policy: BookingPolicy, calendar: _Calendar, advisor_id: int, day: date, length: timedelta
) -> list[datetime]:
    """Every start on ``day`` within the advisor's hours, ignoring what is booked."""
    if is_public_holiday(day):
        return []
    if any(first <= day <= last for first, last in calendar.absent.get(advisor_id, [])):
        return []
    starts = []
    for begin, end in calendar.hours.get(advisor_id, {}).get(day.weekday(), []):
        current = local_moment(day, begin, policy.zone)
        closing = local_moment(day, end, policy.zone)
        while current + length <= closing:
            starts.append(current.astimezone(ZoneInfo("UTC")))
            current += timedelta(minutes=policy.unit_minutes)
    return starts


def _is_free(
    policy: BookingPolicy, calendar: _Calendar, advisor_id: int, starts_at: datetime, length: timedelta
) -> bool:
    return all(
        (advisor_id, unit) not in calendar.taken for unit in units(policy, starts_at, starts_at + length)
    )


async def appointment_kind(session: AsyncSession, person_id: int) -> str:
    """A first consultation for someone who never had or booked one, otherwise a follow-up."""
    had = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.person_id == person_id,
            Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED)),
        )
    )
    return AppointmentKind.FOLLOW_UP if had else AppointmentKind.FIRST


async def bookable_advisors(
    session: AsyncSession, person_id: int, language: str | None, interpreter: bool
) -> dict[int, bool]:
    """The advisors a person can book, each with whether an interpreter is needed with them.

    Their own advisor if their case has one; otherwise those who speak the language; otherwise
    (nobody speaks it, or the person asked for an interpreter) every advisor with hours."""
    advisors = list(
        (
            await session.scalars(
                select(Person.id)
                .where(Person.role == Role.ADVISOR)
                .where(Person.id.in_(select(ConsultationHours.advisor_id)))
                .order_by(Person.id)
            )
        ).all()
    )
    spoken = {
        row.person_id: set(row.languages)
        for row in await session.scalars(select(AdvisorProfile).where(AdvisorProfile.person_id.in_(advisors)))
    }

    def needs_interpreter(advisor_id: int) -> bool:
        return interpreter or (language is not None and language not in spoken.get(advisor_id, set()))

    own = await session.scalar(select(Case.advisor_id).where(Case.person_id == person_id))
    if own is not None and own in advisors:
        return {own: needs_interpreter(own)}
    if language and not interpreter:
        speaking = {advisor_id: False for advisor_id in advisors if language in spoken.get(advisor_id, ())}
        if speaking:
            return speaking
    return {advisor_id: needs_interpreter(advisor_id) for advisor_id in advisors}


async def held_by(session: AsyncSession, appointment_id: int) -> set[tuple[int, datetime]]:
    """The (advisor, grid unit) pairs an appointment holds."""
    rows = await session.execute(
        select(AppointmentSlot.advisor_id, AppointmentSlot.starts_at).where(
            AppointmentSlot.appointment_id == appointment_id
        )
    )
    return {(advisor_id, starts_at) for advisor_id, starts_at in rows.all()}


async def free_slots(
    session: AsyncSession,
    policy: BookingPolicy,
    now: datetime,
    person_id: int,
    language: str | None,
    interpreter: bool,
    day: date | None = None,
    moving: Appointment | None = None,
) -> list[Slot]:
    """Free times the person may book (or move ``moving`` to), earliest first, one per start time
    (the advisor with the lowest id wins a tie); only on ``day`` when given."""
    if moving is not None:
        length = moving.ends_at - moving.starts_at
    else:
        length = policy.length(await appointment_kind(session, person_id))
    advisors = await bookable_advisors(session, person_id, language, interpreter)
    earliest, latest = now + policy.min_notice, now + policy.window
    calendar = await _calendar(session, list(advisors), earliest, latest)
    if moving is not None:  # its own time counts as free for the move
        calendar.taken -= await held_by(session, moving.id)
    first_day, last_day = earliest.astimezone(policy.zone).date(), latest.astimezone(policy.zone).date()
    days = (
        [day]
        if day is not None
        else [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    )
    by_start: dict[datetime, Slot] = {}
    for current_day in days:
        for advisor_id, needs_interpreter in advisors.items():
            for starts_at in _candidate_starts(policy, calendar, advisor_id, current_day, length):
                if (
                    earliest <= starts_at <= latest
                    and starts_at not in by_start
                    and _is_free(policy, calendar, advisor_id, starts_at, length)
                ):
                    by_start[starts_at] = Slot(starts_at, advisor_id, starts_at + length, needs_interpreter)
    return sorted(by_start.values())


async def check_bookable(
    session: AsyncSession,
    policy: BookingPolicy,
    now: datetime,
    *,
    person_id: int,
    advisor_id: int,
    starts_at: datetime,
    length: timedelta,
    language: str | None,
    interpreter: bool,
) -> bool:
    """Refuse what a button may claim but the rules do not allow: a time outside notice, window or
    the advisor's hours, or an advisor the person may not book (not their own advisor, or not one
    who speaks their language while one does). Returns whether an interpreter is needed."""
    if starts_at < now + policy.min_notice:
        raise BookingRefused("too_soon")
    if starts_at > now + policy.window:
        raise BookingRefused("too_far")
    advisors = await bookable_advisors(session, person_id, language, interpreter)
    if advisor_id not in advisors:
        raise BookingRefused("advisor")
    calendar = await _calendar(session, [advisor_id], starts_at, starts_at)
    day = starts_at.astimezone(policy.zone).date()
    if starts_at not in _candidate_starts(policy, calendar, advisor_id, day, length):
        raise BookingRefused("outside_hours")
    return advisors[advisor_id]
