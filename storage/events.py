"""Dated events of offers ("what is on this week"): one-off or weekly with exceptions, with start
and end time and a place. A weekly event does not take place on Baden-Württemberg's public
holidays (as opening hours), nor on its listed exceptions.

In offer files an event is one line, e.g.::

    weekly tue 18:00-20:00 from 2026-01-13 until 2026-07-28 except 2026-04-07 at Sporthalle
    once 2026-12-12 14:00-17:00 at Rathaus, Bürgersaal
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.hours import WEEKDAYS, is_public_holiday
from storage.models import Offer, OfferEvent
from storage.offers import is_visible

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIMES = r"(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})"
_PLACE = r"(?:\s+at\s+(?P<place>[^;]{1,200}?))?"
_ONCE = re.compile(rf"once\s+(?P<day>{_DATE})\s+{_TIMES}{_PLACE}\s*")
_WEEKLY = re.compile(
    rf"weekly\s+(?P<weekday>{'|'.join(WEEKDAYS)})\s+{_TIMES}\s+from\s+(?P<first>{_DATE})"
    rf"(?:\s+until\s+(?P<last>{_DATE}))?(?:\s+except\s+(?P<except>{_DATE}(?:\s*,\s*{_DATE})*))?{_PLACE}\s*"
)
MAX_EXCEPTIONS = 60


class InvalidEvent(ValueError):
    """An event line that cannot be understood; the message says how to write it."""


@dataclass(frozen=True)
class EventRule:
    """One event as written in an offer file (and stored as one row)."""

    weekly: bool
    first_day: date
    last_day: date | None  # weekly only; None: until further notice
    starts: time
    ends: time
    place: str | None = None
    exceptions: tuple[date, ...] = ()

    @property
    def weekday(self) -> int:
        return self.first_day.weekday()


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidEvent(f"{value} is not a real date") from None


def _clock(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise InvalidEvent(f"{value} is not a time like 18:00") from None


def parse_event(line: str) -> EventRule:
    """An event from its one-line form; :class:`InvalidEvent` says what is wrong."""
    text = " ".join(line.split())
    if (found := _ONCE.fullmatch(text)) is not None:
        weekly, first, last, exceptions = False, _day(found["day"]), None, ()
    elif (found := _WEEKLY.fullmatch(text)) is not None:
        weekly, first = True, _day(found["first"])
        last = _day(found["last"]) if found["last"] else None
        exceptions = tuple(sorted({_day(day.strip()) for day in (found["except"] or "").split(",") if day}))
        while WEEKDAYS[first.weekday()] != found["weekday"]:  # the first date the weekday falls on
            first += timedelta(days=1)
        if last is not None and last < first:
            raise InvalidEvent("the last date is before the first one")
        if len(exceptions) > MAX_EXCEPTIONS:
            raise InvalidEvent(f"at most {MAX_EXCEPTIONS} exceptions")
    else:
        raise InvalidEvent(
            "write e.g. 'weekly tue 18:00-20:00 from 2026-01-13 until 2026-07-28 except 2026-04-07 at Hall' "
            "or 'once 2026-12-12 14:00-17:00 at Rathaus'"
        )
    starts, ends = _clock(found["start"]), _clock(found["end"])
    if ends <= starts:
        raise InvalidEvent("the end time must be after the start time")
    place = found["place"].strip() if found["place"] else None
    return EventRule(weekly, first, last, starts, ends, place, exceptions)


def format_event(rule: EventRule) -> str:
    """The one-line form of an event (``parse_event`` reads it back unchanged)."""
    times = f"{rule.starts.isoformat(timespec='minutes')}-{rule.ends.isoformat(timespec='minutes')}"
    if rule.weekly:
        text = f"weekly {WEEKDAYS[rule.weekday]} {times} from {rule.first_day.isoformat()}"
        if rule.last_day is not None:
            text += f" until {rule.last_day.isoformat()}"
        if rule.exceptions:
            text += " except " + ", ".join(day.isoformat() for day in rule.exceptions)
    else:
        text = f"once {rule.first_day.isoformat()} {times}"
    return text + (f" at {rule.place}" if rule.place else "")


def days_of(rule: EventRule, start: date, end: date) -> list[date]:
    """The days from ``start`` to ``end`` (both included) on which the event takes place."""
    if not rule.weekly:
        return [rule.first_day] if start <= rule.first_day <= end else []
    last = min(end, rule.last_day) if rule.last_day is not None else end
    day = max(start, rule.first_day)
    day += timedelta(days=(rule.weekday - day.weekday()) % 7)
    days = []
    while day <= last:
        if day not in rule.exceptions and not is_public_holiday(day):
            days.append(day)
        day += timedelta(days=7)
    return days


def rule_of(row: OfferEvent) -> EventRule:
    return EventRule(
        row.weekly,
        row.first_day,
        row.last_day,
        row.starts,
        row.ends,
        row.place,
        tuple(date.fromisoformat(day) for day in row.exceptions or ()),
    )


async def replace_offer_events(session: AsyncSession, offer_id: int, rules: Sequence[EventRule]) -> bool:
    """Make the offer's events exactly ``rules``; whether anything changed."""
    current = list(await session.scalars(select(OfferEvent).where(OfferEvent.offer_id == offer_id)))
    if sorted(map(format_event, map(rule_of, current))) == sorted(map(format_event, rules)):
        return False
    await session.execute(delete(OfferEvent).where(OfferEvent.offer_id == offer_id))
    for rule in rules:
        session.add(
            OfferEvent(
                offer_id=offer_id,
                weekly=rule.weekly,
                first_day=rule.first_day,
                last_day=rule.last_day,
                starts=rule.starts,
                ends=rule.ends,
                place=rule.place,
                exceptions=[day.isoformat() for day in rule.exceptions],
            )
        )
    return True


async def event_lines(session: AsyncSession, offer_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each offer's events in their one-line form, for the export."""
    lines: dict[int, list[str]] = {offer_id: [] for offer_id in offer_ids}
    for row in await session.scalars(
        select(OfferEvent).where(OfferEvent.offer_id.in_(offer_ids)).order_by(OfferEvent.id)
    ):
        lines[row.offer_id].append(format_event(rule_of(row)))
    return lines


@dataclass(frozen=True)
class Occurrence:
    """One event on one day, with its offer (texts loaded) and its instants (UTC-aware)."""

    event_id: int
    day: date
    starts_at: datetime
    ends_at: datetime
    place: str | None
    offer: Offer


async def upcoming(session: AsyncSession, today: date, zone: tzinfo, days: int = 7) -> list[Occurrence]:
    """Events of visible offers from ``today`` for ``days`` days, in time order."""
    end = today + timedelta(days=days - 1)
    rows = await session.execute(
        select(OfferEvent, Offer)
        .join(Offer, Offer.id == OfferEvent.offer_id)
        .where(is_visible(today), OfferEvent.first_day <= end)
        .where((OfferEvent.last_day.is_(None)) | (OfferEvent.last_day >= today))
        .options(selectinload(Offer.texts))
    )
    found = []
    for row, offer in rows.all():
        rule = rule_of(row)
        for day in days_of(rule, today, end):
            if offer.ends_on is not None and day > offer.ends_on:
                continue
            found.append(
                Occurrence(
                    row.id,
                    day,
                    datetime.combine(day, rule.starts, zone),
                    datetime.combine(day, rule.ends, zone),
                    rule.place or offer.address,
                    offer,
                )
            )
    return sorted(found, key=lambda occurrence: (occurrence.starts_at, occurrence.offer.slug))


async def occurrence(
    session: AsyncSession, event_id: int, day: date, today: date, zone: tzinfo
) -> Occurrence | None:
    """One event on one day, if it really takes place then and its offer is visible."""
    row = await session.get(OfferEvent, event_id)
    if row is None:
        return None
    offer = await session.scalar(
        select(Offer).where(Offer.id == row.offer_id, is_visible(today)).options(selectinload(Offer.texts))
    )
    rule = rule_of(row)
    if offer is None or day not in days_of(rule, day, day):
        return None
    return Occurrence(
        row.id,
        day,
        datetime.combine(day, rule.starts, zone),
        datetime.combine(day, rule.ends, zone),
        rule.place or offer.address,
        offer,
    )
