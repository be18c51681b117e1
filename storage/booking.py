"""Consultation booking: booking, cancelling, moving and outcomes, and the advisor's agenda.

Every operation re-checks what a button only claims: that the time is within an advisor's hours,
notice and window, that the advisor is one the person may book (``storage.slots``), that the
appointment belongs to whoever acts on it, that the cut-off has not passed. The database refuses a
double booking through the unique grid units in ``appointment_slots``; a refused insert becomes
:class:`BookingRefused` ("taken"). Free times live in ``storage.slots``, advisors' hours and
absences in ``storage.advisors``, the waiting list in ``storage.waiting_list``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import reminders
from storage.consent import Purpose, require_consent
from storage.errors import AlreadyBooked, BookingRefused
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentSlot,
    AppointmentStatus,
    Case,
    Offer,
    Person,
    WaitingListEntry,
)
from storage.slots import appointment_kind, check_bookable, held_by, units

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
        """How long a consultation of this kind takes."""
        return timedelta(
            minutes=self.first_minutes if kind == AppointmentKind.FIRST else self.follow_up_minutes
        )


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
    """Book a consultation for the person (who must have agreed to the booking data being stored).

    Whatever the button said, the advisor must be one the person may book, and the appointment is
    marked as needing an interpreter when that advisor does not speak the language."""
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
    interpreter = await check_bookable(
        session,
        policy,
        now,
        person_id=person.id,
        advisor_id=advisor_id,
        starts_at=starts_at,
        length=length,
        language=language,
        interpreter=interpreter,
    )
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
            for unit in units(policy, appointment.starts_at, appointment.ends_at):
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
    """The person's own appointment; anyone else's is refused (``not_yours``)."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.person_id != person_id:
        raise BookingRefused("not_yours")
    return appointment


async def advisor_appointment(session: AsyncSession, appointment_id: int, advisor_id: int) -> Appointment:
    """The advisor's own appointment; anyone else's is refused (``not_yours``)."""
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
    needs_interpreter = await check_bookable(
        session,
        policy,
        now,
        person_id=person_id,
        advisor_id=advisor_id,
        starts_at=starts_at,
        length=length,
        language=appointment.language,
        interpreter=appointment.interpreter,
    )
    held = await held_by(session, appointment.id)
    wanted = {(advisor_id, unit) for unit in units(policy, starts_at, starts_at + length)}
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
    appointment.interpreter = needs_interpreter
    await session.flush()
    await reminders.schedule_for(session, appointment, now)
    return appointment


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
