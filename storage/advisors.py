"""Advisors' consultation settings and the rules for changing them, shared by the bot's /hours,
``wegweiser hours`` and the desk: weekly hours, absences, languages and place.

A refused change raises :class:`DomainError` with one of these reasons: ``hours_format``,
``hours_grid``, ``absence_format``, ``absence_order``, ``absence_past``, ``absence_booked`` (with
the booked ``appointments`` in the way), ``languages``, ``place_empty``, ``place_long``, and
``not_yours`` when the account is not an advisor.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import SUPPORTED_LANGUAGES
from storage import booking
from storage.errors import BookingRefused, DomainError
from storage.hours import HoursError, parse_intervals
from storage.models import (
    Absence,
    AdvisorProfile,
    Appointment,
    AppointmentStatus,
    Case,
    ConsultationHours,
    Person,
    Role,
)

PLACE_MAX = 200
ABSENCE_CANCEL_REASON = "other"  # what the person hears when an absence cancels their appointment
_DAY = r"(\d{4}-\d{2}-\d{2})"
_ABSENCE = re.compile(rf"\s*{_DAY}(?:\s*(?:\s|-|–|—)\s*{_DAY})?\s*")


def default_place(municipality: str) -> str:
    """Where consultations take place when an advisor has not said."""
    return f"Rathaus {municipality}"


async def advisor_or_refuse(session: AsyncSession, telegram_id: int) -> Person:
    """The advisor with this Telegram id; anyone else is refused (``not_yours``)."""
    person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    if person is None or person.role != Role.ADVISOR:
        raise BookingRefused("not_yours")
    return person


# ---- weekly hours ------------------------------------------------------------------------------


async def set_weekly_hours(session: AsyncSession, advisor_id: int, weekday: int, ranges: str) -> None:
    """Replace an advisor's hours on one weekday ("09:00-12:00, 14:00-16:00"; "" or "-" for none)."""
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    ranges = "" if ranges.strip() == "-" else ranges
    try:
        intervals = parse_intervals(ranges) if ranges.strip() else []
    except HoursError as error:
        raise DomainError("hours_format", problem=str(error)) from None
    for start, end in intervals:
        if int(start[3:]) % 30 or int(end[3:]) % 30:
            raise DomainError("hours_grid")
    await session.execute(
        delete(ConsultationHours).where(
            ConsultationHours.advisor_id == advisor_id, ConsultationHours.weekday == weekday
        )
    )
    for start, end in intervals:
        session.add(ConsultationHours(advisor_id=advisor_id, weekday=weekday, starts=start, ends=end))


async def weekly_hours(session: AsyncSession, advisor_id: int) -> dict[int, list[tuple[str, str]]]:
    """An advisor's hours by weekday (0 = Monday), each day's ranges in order."""
    rows = await session.scalars(
        select(ConsultationHours)
        .where(ConsultationHours.advisor_id == advisor_id)
        .order_by(ConsultationHours.weekday, ConsultationHours.starts)
    )
    hours: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        hours[row.weekday].append((row.starts, row.ends))
    return dict(hours)


# ---- absences ----------------------------------------------------------------------------------


def parse_absence(text: str) -> tuple[date, date]:
    """``"2026-03-10 2026-03-14"`` or a single ``"2026-03-10"`` → first and last day."""
    match = _ABSENCE.fullmatch(text)
    if match is None:
        raise DomainError("absence_format")
    try:
        first = date.fromisoformat(match[1])
        last = date.fromisoformat(match[2]) if match[2] else first
    except ValueError:
        raise DomainError("absence_format") from None
    return first, last


async def booked_during(
    session: AsyncSession, advisor_id: int, first_day: date, last_day: date, zone: tzinfo, now: datetime
) -> list[tuple[Appointment, Case]]:
    """The advisor's booked appointments still to come on the local days ``first_day``–``last_day``,
    with their cases, earliest first."""
    start = datetime.combine(first_day, time(0), zone).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone).astimezone(UTC)
    rows = await session.execute(
        select(Appointment, Case)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.advisor_id == advisor_id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.ends_at > now,
        )
        .order_by(Appointment.starts_at)
    )
    return [(appointment, case) for appointment, case in rows.all()]


@dataclass(frozen=True)
class AbsenceAdded:
    """A new absence and the appointments it cancelled, with their cases (their people are to be told)."""

    absence: Absence
    cancelled: tuple[tuple[Appointment, Case], ...]


async def add_absence(
    session: AsyncSession,
    advisor_id: int,
    first_day: date,
    last_day: date,
    *,
    zone: tzinfo,
    now: datetime,
    cancel_appointments: bool | None = None,
) -> AbsenceAdded:
    """Add days without consultations. An absence that is over, or ends before it begins, is refused.
    Booked appointments in it are not touched silently: with ``cancel_appointments`` unset the absence
    is refused as ``absence_booked`` (listing them), ``True`` cancels them, ``False`` keeps them."""
    if last_day < first_day:
        raise DomainError("absence_order")
    if last_day < now.astimezone(zone).date():
        raise DomainError("absence_past")
    booked = await booked_during(session, advisor_id, first_day, last_day, zone, now)
    if booked and cancel_appointments is None:
        raise DomainError("absence_booked", appointments=tuple(booked))
    if cancel_appointments:
        for appointment, _case in booked:
            await booking.cancel_by_advisor(session, now, appointment.id, advisor_id, ABSENCE_CANCEL_REASON)
    absence = Absence(advisor_id=advisor_id, first_day=first_day, last_day=last_day)
    session.add(absence)
    await session.flush()
    return AbsenceAdded(absence, tuple(booked) if cancel_appointments else ())


async def absences(session: AsyncSession, advisor_id: int, from_day: date) -> Sequence[Absence]:
    """The advisor's absences that end on or after ``from_day``, earliest first."""
    result = await session.scalars(
        select(Absence)
        .where(Absence.advisor_id == advisor_id, Absence.last_day >= from_day)
        .order_by(Absence.first_day)
    )
    return result.all()


async def remove_absence(session: AsyncSession, advisor_id: int, absence_id: int) -> bool:
    """Remove one of the advisor's own absences; returns whether there was one."""
    result = await session.execute(
        delete(Absence).where(Absence.id == absence_id, Absence.advisor_id == advisor_id)
    )
    return bool(result.rowcount)


# ---- languages and place -----------------------------------------------------------------------


async def profile(session: AsyncSession, advisor_id: int) -> AdvisorProfile:
    """The advisor's profile, created empty when missing."""
    found = await session.get(AdvisorProfile, advisor_id)
    if found is None:
        found = AdvisorProfile(person_id=advisor_id, languages=[], place=None)
        session.add(found)
        await session.flush()
    return found


def parse_languages(text: str) -> list[str]:
    """``"de, en, ar"`` → ``["de", "en", "ar"]``; ``"-"`` clears; an unknown code is refused."""
    if text.strip() == "-":
        return []
    codes = [code.lower() for code in re.split(r"[,;\s]+", text) if code]
    if not codes or any(code not in SUPPORTED_LANGUAGES for code in codes):
        raise DomainError("languages", known=SUPPORTED_LANGUAGES)
    return list(dict.fromkeys(codes))


async def set_languages(session: AsyncSession, advisor_id: int, text: str) -> list[str]:
    """Set the languages an advisor consults in, from ``"de, en, ar"`` (``"-"`` for none)."""
    codes = parse_languages(text)
    (await profile(session, advisor_id)).languages = codes
    return codes


async def set_place(session: AsyncSession, advisor_id: int, text: str) -> str | None:
    """Set where the advisor's consultations take place (``"-"``: the default place)."""
    place = text.strip()
    if not place:
        raise DomainError("place_empty")
    if len(place) > PLACE_MAX:
        raise DomainError("place_long", limit=PLACE_MAX)
    stored = None if place == "-" else place
    (await profile(session, advisor_id)).place = stored
    return stored
