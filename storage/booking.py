"""Consultation booking: free times, booking, cancelling, moving, outcomes and the waiting list.

Every operation re-checks what a button only claims: that the time is within an advisor's hours,
notice and window, that the appointment belongs to whoever acts on it, that the cut-off has not
passed. The database refuses a double booking through the unique grid units in
``appointment_slots``; a refused insert becomes :class:`BookingRefused` ("taken").
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import reminders
from storage.consent import Purpose, require_consent
from storage.hours import is_public_holiday, local_moment, parse_intervals
from storage.models import (
    Absence,
    AdvisorProfile,
    Appointment,
    AppointmentKind,
    AppointmentSlot,
    AppointmentStatus,
    Case,
    ConsultationHours,
    Offer,
    Person,
    Role,
    WaitingListEntry,
)

TOPICS = ("housing", "work", "language", "family", "health", "papers", "money", "other")
CANCEL_REASONS = ("ill", "no_time", "solved", "other", "none")
ADVISOR_CANCEL_REASONS = ("advisor_ill", "emergency", "other")
CASE_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class BookingPolicy:
    """The configurable rules of booking, with the municipality's defaults."""

    zone: ZoneInfo
    min_notice: timedelta = timedelta(hours=12)
    window: timedelta = timedelta(days=21)
    max_open: int = 2
    change_cutoff: timedelta = timedelta(hours=2)
    first_minutes: int = 60
    follow_up_minutes: int = 30
    unit_minutes: int = 30
    waiting_offer_valid: timedelta = timedelta(hours=3)

    def length(self, kind: str) -> timedelta:
        return timedelta(
            minutes=self.first_minutes if kind == AppointmentKind.FIRST else self.follow_up_minutes
        )


class BookingRefused(Exception):
    """A booking operation that cannot be done. ``reason`` is a stable code the bot translates:
    taken, too_soon, too_far, outside_hours, limit, not_yours, too_late, not_booked, topic."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AlreadyBooked(BookingRefused):
    """The person already booked exactly this time (a second tap on "confirm"); nothing new."""

    def __init__(self, appointment_id: int):
        super().__init__("already_booked")
        self.appointment_id = appointment_id


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    advisor_id: int
    ends_at: datetime = field(compare=False)


# ---- advisors' hours -------------------------------------------------------------------------


async def advisor_or_refuse(session: AsyncSession, telegram_id: int) -> Person:
    person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    if person is None or person.role != Role.ADVISOR:
        raise BookingRefused("not_yours")
    return person


async def set_weekly_hours(session: AsyncSession, advisor_id: int, weekday: int, ranges: str) -> None:
    """Replace an advisor's hours on one weekday ("09:00-12:00, 14:00-16:00"; "" for none)."""
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    intervals = parse_intervals(ranges) if ranges.strip() else []
    for start, end in intervals:
        if int(start[3:]) % 30 or int(end[3:]) % 30:
            raise ValueError("consultation hours start and end on the hour or half hour")
    await session.execute(
        delete(ConsultationHours).where(
            ConsultationHours.advisor_id == advisor_id, ConsultationHours.weekday == weekday
        )
    )
    for start, end in intervals:
        session.add(ConsultationHours(advisor_id=advisor_id, weekday=weekday, starts=start, ends=end))


async def weekly_hours(session: AsyncSession, advisor_id: int) -> dict[int, list[tuple[str, str]]]:
    rows = await session.scalars(
        select(ConsultationHours)
        .where(ConsultationHours.advisor_id == advisor_id)
        .order_by(ConsultationHours.weekday, ConsultationHours.starts)
    )
    hours: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        hours[row.weekday].append((row.starts, row.ends))
    return dict(hours)


async def add_absence(session: AsyncSession, advisor_id: int, first_day: date, last_day: date) -> Absence:
    if last_day < first_day:
        raise ValueError("an absence ends on or after its first day")
    absence = Absence(advisor_id=advisor_id, first_day=first_day, last_day=last_day)
    session.add(absence)
    await session.flush()
    return absence


async def absences(session: AsyncSession, advisor_id: int, from_day: date) -> Sequence[Absence]:
    result = await session.scalars(
        select(Absence)
        .where(Absence.advisor_id == advisor_id, Absence.last_day >= from_day)
        .order_by(Absence.first_day)
    )
    return result.all()


async def remove_absence(session: AsyncSession, advisor_id: int, absence_id: int) -> bool:
    result = await session.execute(
        delete(Absence).where(Absence.id == absence_id, Absence.advisor_id == advisor_id)
    )
    return bool(result.rowcount)


async def profile(session: AsyncSession, advisor_id: int) -> AdvisorProfile:
    """The advisor's profile, created empty when missing."""
    found = await session.get(AdvisorProfile, advisor_id)
    if found is None:
        found = AdvisorProfile(person_id=advisor_id, languages=[], place=None)
        session.add(found)
        await session.flush()
    return found


# ---- free times ------------------------------------------------------------------------------


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


def _units(policy: BookingPolicy, starts_at: datetime, ends_at: datetime) -> list[datetime]:
    step = timedelta(minutes=policy.unit_minutes)
    units, current = [], starts_at
    while current < ends_at:
        units.append(current)
        current += step
    return units


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
        (advisor_id, unit) not in calendar.taken for unit in _units(policy, starts_at, starts_at + length)
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


async def _advisors_for(
    session: AsyncSession, person_id: int, language: str | None, interpreter: bool
) -> list[int]:
    """Advisors a person can book: their own advisor if the case has one, else those who speak
    their language (or everyone, when nobody does or an interpreter comes along)."""
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
    case = await session.scalar(select(Case).where(Case.person_id == person_id))
    if case is not None and case.advisor_id in advisors:
        return [case.advisor_id]
    if language and not interpreter:
        speaking = [
            advisor_id
            for advisor_id in advisors
            if language
            in ((await session.get(AdvisorProfile, advisor_id)) or AdvisorProfile(languages=[])).languages
        ]
        if speaking:
            return speaking
    return advisors


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
    advisors = await _advisors_for(session, person_id, language, interpreter)
    earliest, latest = now + policy.min_notice, now + policy.window
    calendar = await _calendar(session, advisors, earliest, latest)
    if moving is not None:  # its own time counts as free for the move
        calendar.taken -= await _held_by(session, moving.id)
    first_day, last_day = earliest.astimezone(policy.zone).date(), latest.astimezone(policy.zone).date()
    days = (
        [day]
        if day is not None
        else [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    )
    by_start: dict[datetime, Slot] = {}
    for current_day in days:
        for advisor_id in advisors:
            for starts_at in _candidate_starts(policy, calendar, advisor_id, current_day, length):
                if (
                    earliest <= starts_at <= latest
                    and starts_at not in by_start
                    and _is_free(policy, calendar, advisor_id, starts_at, length)
                ):
                    by_start[starts_at] = Slot(starts_at, advisor_id, starts_at + length)
    return sorted(by_start.values())


async def _check_time(
    session: AsyncSession,
    policy: BookingPolicy,
    now: datetime,
    advisor_id: int,
    starts_at: datetime,
    length: timedelta,
) -> None:
    """Refuse a time outside notice, window or the advisor's hours, whatever the button said."""
    if starts_at < now + policy.min_notice:
        raise BookingRefused("too_soon")
    if starts_at > now + policy.window:
        raise BookingRefused("too_far")
    calendar = await _calendar(session, [advisor_id], starts_at, starts_at)
    day = starts_at.astimezone(policy.zone).date()
    if starts_at not in _candidate_starts(policy, calendar, advisor_id, day, length):
        raise BookingRefused("outside_hours")


# ---- cases -----------------------------------------------------------------------------------


def new_case_number() -> str:
    """A short number that cannot be guessed from another (31^6 ≈ 887 million)."""
    return "W-" + "".join(secrets.choice(CASE_NUMBER_ALPHABET) for _ in range(6))


async def case_for(session: AsyncSession, person_id: int, first_name: str | None, now: datetime) -> Case:
    """The person's case, opened now if they have none (in their language, for the statistics)."""
    case = await session.scalar(select(Case).where(Case.person_id == person_id))
    if case is None:
        person = await session.get(Person, person_id)
        case = Case(
            number=new_case_number(),
            person_id=person_id,
            first_name=first_name,
            status="new",
            opened_at=now,
            language=person.language if person else None,
        )
        session.add(case)
        await session.flush()
    elif first_name and not case.first_name:
        case.first_name = first_name
    return case


# ---- booking, cancelling, moving -------------------------------------------------------------


async def open_appointments(session: AsyncSession, person_id: int, now: datetime) -> Sequence[Appointment]:
    """The person's booked appointments that have not begun yet, earliest first."""
    result = await session.scalars(
        select(Appointment)
        .where(
            Appointment.person_id == person_id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at > now,
        )
        .order_by(Appointment.starts_at)
    )
    return result.all()


async def book(
    session: AsyncSession,
    policy: BookingPolicy,
    now: datetime,
    *,
    person: Person,
    advisor_id: int,
    starts_at: datetime,
    topic: str,
    language: str | None,
    interpreter: bool,
    first_name: str | None = None,
    offer_id: int | None = None,
) -> Appointment:
    """Book a consultation for the person (who must have agreed to the booking data being stored)."""
    if topic not in TOPICS:
        raise BookingRefused("topic")
    await require_consent(session, person.id, Purpose.BOOKING)
    existing = await session.scalar(
        select(Appointment).where(
            Appointment.person_id == person.id,
            Appointment.starts_at == starts_at,
            Appointment.status == AppointmentStatus.BOOKED,
        )
    )
    if existing is not None:
        raise AlreadyBooked(existing.id)  # a second tap on "confirm" books once
    if len(await open_appointments(session, person.id, now)) >= policy.max_open:
        raise BookingRefused("limit")
    kind = await appointment_kind(session, person.id)
    length = policy.length(kind)
    await _check_time(session, policy, now, advisor_id, starts_at, length)
    if offer_id is not None and await session.get(Offer, offer_id) is None:
        offer_id = None  # a button about an offer that is gone (or never was): book without it
    try:
        # One savepoint for the case, the appointment and its grid units: a refused unit leaves
        # nothing behind, even when the caller goes on to commit (as a handler does after telling
        # the person the time was taken).
        async with session.begin_nested():
            case = await case_for(session, person.id, first_name, now)
            appointment = Appointment(
                case_id=case.id,
                person_id=person.id,
                advisor_id=advisor_id,
                starts_at=starts_at,
                ends_at=starts_at + length,
                kind=kind,
                topic=topic,
                language=language,
                interpreter=interpreter,
                offer_id=offer_id,
                status=AppointmentStatus.BOOKED,
                booked_at=now,
            )
            session.add(appointment)
            await session.flush()
            for unit in _units(policy, appointment.starts_at, appointment.ends_at):
                session.add(
                    AppointmentSlot(appointment_id=appointment.id, advisor_id=advisor_id, starts_at=unit)
                )
            await session.flush()
    except IntegrityError:
        raise BookingRefused("taken") from None
    await reminders.schedule_for(session, appointment, now)
    await session.execute(
        update(WaitingListEntry)
        .where(WaitingListEntry.person_id == person.id, WaitingListEntry.status.in_(("waiting", "offered")))
        .values(status="done")
    )
    return appointment


async def person_appointment(session: AsyncSession, appointment_id: int, person_id: int) -> Appointment:
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.person_id != person_id:
        raise BookingRefused("not_yours")
    return appointment


async def advisor_appointment(session: AsyncSession, appointment_id: int, advisor_id: int) -> Appointment:
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.advisor_id != advisor_id:
        raise BookingRefused("not_yours")
    return appointment


async def _release(session: AsyncSession, appointment: Appointment) -> None:
    await session.execute(delete(AppointmentSlot).where(AppointmentSlot.appointment_id == appointment.id))


async def cancel_by_person(
    session: AsyncSession,
    policy: BookingPolicy,
    now: datetime,
    appointment_id: int,
    person_id: int,
    reason: str,
) -> Appointment:
    """The person cancels their own appointment, up to the cut-off before it begins."""
    appointment = await person_appointment(session, appointment_id, person_id)
    if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at <= now:
        raise BookingRefused("not_booked")
    if appointment.starts_at - now < policy.change_cutoff:
        raise BookingRefused("too_late")
    return await _cancel(session, appointment, "person", reason if reason in CANCEL_REASONS else "none")


async def cancel_by_advisor(
    session: AsyncSession, now: datetime, appointment_id: int, advisor_id: int, reason: str
) -> Appointment:
    """An advisor cancels one of their own appointments (no cut-off: illness does not wait)."""
    appointment = await advisor_appointment(session, appointment_id, advisor_id)
    if appointment.status != AppointmentStatus.BOOKED or appointment.ends_at <= now:
        raise BookingRefused("not_booked")
    return await _cancel(
        session, appointment, "advisor", reason if reason in ADVISOR_CANCEL_REASONS else "other"
    )


async def _cancel(session: AsyncSession, appointment: Appointment, by: str, reason: str) -> Appointment:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_by, appointment.cancel_reason = by, reason
    if by == "person":
        await _release(session, appointment)
    # When the advisor cancels (ill, emergency), the time stays blocked: it is not free for others.
    await reminders.drop_for(session, appointment.id)
    return appointment


async def move(
    session: AsyncSession,
    policy: BookingPolicy,
    now: datetime,
    appointment_id: int,
    person_id: int,
    advisor_id: int,
    starts_at: datetime,
) -> Appointment:
    """Move the person's appointment: the new time is held before the old one is released."""
    appointment = await person_appointment(session, appointment_id, person_id)
    if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at <= now:
        raise BookingRefused("not_booked")
    if appointment.starts_at - now < policy.change_cutoff:
        raise BookingRefused("too_late")
    length = appointment.ends_at - appointment.starts_at
    if starts_at == appointment.starts_at and advisor_id == appointment.advisor_id:
        return appointment
    await _check_time(session, policy, now, advisor_id, starts_at, length)
    held = await _held_by(session, appointment.id)
    wanted = {(advisor_id, unit) for unit in _units(policy, starts_at, starts_at + length)}
    try:
        async with session.begin_nested():
            for advisor, unit in sorted(wanted - held):
                session.add(
                    AppointmentSlot(appointment_id=appointment.id, advisor_id=advisor, starts_at=unit)
                )
            await session.flush()
    except IntegrityError:
        raise BookingRefused("taken") from None
    for slot in await session.scalars(
        select(AppointmentSlot).where(AppointmentSlot.appointment_id == appointment.id)
    ):
        if (slot.advisor_id, slot.starts_at) not in wanted:
            await session.delete(slot)
    appointment.advisor_id, appointment.starts_at, appointment.ends_at = (
        advisor_id,
        starts_at,
        starts_at + length,
    )
    await session.flush()
    await reminders.schedule_for(session, appointment, now)
    return appointment


async def _held_by(session: AsyncSession, appointment_id: int) -> set[tuple[int, datetime]]:
    rows = await session.execute(
        select(AppointmentSlot.advisor_id, AppointmentSlot.starts_at).where(
            AppointmentSlot.appointment_id == appointment_id
        )
    )
    return {(advisor_id, starts_at) for advisor_id, starts_at in rows.all()}


async def record_outcome(
    session: AsyncSession, now: datetime, appointment_id: int, advisor_id: int, attended: bool
) -> Appointment:
    """After it began, the advisor records whether the person came."""
    appointment = await advisor_appointment(session, appointment_id, advisor_id)
    if appointment.starts_at > now or appointment.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.ATTENDED,
        AppointmentStatus.NO_SHOW,
    ):
        raise BookingRefused("not_booked")
    appointment.status = AppointmentStatus.ATTENDED if attended else AppointmentStatus.NO_SHOW
    await _release(session, appointment)
    return appointment


async def agenda(
    session: AsyncSession, advisor_id: int, start: datetime, end: datetime
) -> list[tuple[Appointment, Case]]:
    """An advisor's appointments between two instants, with their cases, earliest first."""
    rows = await session.execute(
        select(Appointment, Case)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.advisor_id == advisor_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(Appointment.starts_at)
    )
    return [(appointment, case) for appointment, case in rows.all()]


# ---- waiting list ----------------------------------------------------------------------------


async def join_waiting_list(
    session: AsyncSession, person_id: int, topic: str, language: str | None, interpreter: bool, now: datetime
) -> WaitingListEntry:
    """Put the person on the waiting list (once; joining again keeps their place)."""
    entry = await session.scalar(
        select(WaitingListEntry).where(
            WaitingListEntry.person_id == person_id, WaitingListEntry.status.in_(("waiting", "offered"))
        )
    )
    if entry is None:
        entry = WaitingListEntry(
            person_id=person_id,
            topic=topic,
            language=language,
            interpreter=interpreter,
            joined_at=now,
            status="waiting",
        )
        session.add(entry)
        await session.flush()
    return entry


async def offer_freed_time(
    session: AsyncSession, policy: BookingPolicy, now: datetime
) -> list[tuple[WaitingListEntry, Slot]]:
    """First come, first served: expired offers lapse, and the longest-waiting people who can now
    book a free time are offered it (one offer each, valid for ``policy.waiting_offer_valid``)."""
    expired = await session.scalars(
        select(WaitingListEntry).where(
            WaitingListEntry.status == "offered", WaitingListEntry.offer_expires_at <= now
        )
    )
    for entry in expired:
        entry.status = "expired"
    waiting = (
        await session.scalars(
            select(WaitingListEntry)
            .where(WaitingListEntry.status == "waiting")
            .order_by(WaitingListEntry.joined_at)
        )
    ).all()
    promised = set(
        (
            await session.scalars(
                select(WaitingListEntry.offered_starts_at).where(WaitingListEntry.status == "offered")
            )
        ).all()
    )
    offered: list[tuple[WaitingListEntry, Slot]] = []
    for entry in waiting:
        slots = [
            slot
            for slot in await free_slots(
                session, policy, now, entry.person_id, entry.language, entry.interpreter
            )
            if slot.starts_at not in promised
        ]
        if not slots:
            continue
        entry.status, entry.offered_at = "offered", now
        entry.offered_starts_at, entry.offer_expires_at = slots[0].starts_at, now + policy.waiting_offer_valid
        promised.add(slots[0].starts_at)
        offered.append((entry, slots[0]))
    return offered
