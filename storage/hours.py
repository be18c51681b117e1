"""Weekly opening hours: parsing, validation, and "open now" / "opens Tuesday 14:00" in local time.

Public holidays in Baden-Württemberg count as closed days.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holidays import HolidayBase


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)$")
LOOKAHEAD_DAYS = 14

Hours = dict[str, list[list[str]]]


class HoursError(ValueError):
    """Opening hours that cannot be understood; the message says what is wrong."""


def parse_intervals(text: str) -> list[list[str]]:
    """``"09:00-12:00, 14:00-16:00"`` → ``[["09:00", "12:00"], ["14:00", "16:00"]]``."""
    intervals: list[list[str]] = []
    for part in (piece.strip() for piece in text.split(",")):
        match = _INTERVAL.match(part)
        if not match:
            raise HoursError(f"{part!r} is not a time range like 09:00-12:00")
        start, end = f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"
        if end != "24:00" and end <= start:
            raise HoursError(f"{part!r} ends before it starts")
        intervals.append([start, end])
    intervals.sort()
    for earlier, later in itertools.pairwise(intervals):
        if later[0] < earlier[1]:
            raise HoursError(f"{earlier[0]}-{earlier[1]} and {later[0]}-{later[1]} overlap")
    return intervals


def parse_hours(value: object) -> Hours | None:
    """Opening hours from a mapping (``{"mon": "09:00-12:00"}``) or a line
    (``"mon 09:00-12:00, 14:00-16:00; tue 10:00-12:00"``); empty means no fixed hours."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        mapping: dict[str, object] = {}
        for entry in (piece.strip() for piece in value.split(";")):
            if not entry:
                continue
            day, _, ranges = entry.partition(" ")
            mapping[day.strip().lower()] = ranges.strip()
        value = mapping
    if not isinstance(value, dict):
        raise HoursError("opening hours must map weekdays (mon … sun) to time ranges")
    hours: Hours = {}
    for day, ranges in value.items():
        day_name = str(day).lower()
        if day_name not in WEEKDAYS:
            raise HoursError(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}")
        if isinstance(ranges, list):
            ranges = ", ".join(f"{start}-{end}" for start, end in ranges)
        if not isinstance(ranges, str) or not ranges.strip():
            raise HoursError(f"{day_name} has no time range")
        hours[day_name] = parse_intervals(ranges)
    return {day: hours[day] for day in WEEKDAYS if day in hours} or None


def format_hours_line(hours: Hours | None) -> str:
    """The file form of opening hours: ``"mon 09:00-12:00, 14:00-16:00; tue 10:00-12:00"``."""
    if not hours:
        return ""
    return "; ".join(
        f"{day} " + ", ".join(f"{start}-{end}" for start, end in hours[day])
        for day in WEEKDAYS
        if day in hours
    )


@cache
def _public_holidays(year: int) -> HolidayBase:
    import holidays  # loaded when first needed, not at start-up

    return holidays.country_holidays("DE", subdiv="BW", years=year)


def is_public_holiday(day: date) -> bool:
    """Whether the day is a public holiday in Baden-Württemberg."""
    return day in _public_holidays(day.year)


@dataclass(frozen=True)
class OpeningState:
    """Whether an offer is open at an instant, until when, or when it opens next (UTC instants)."""

    open_now: bool
    closes_at: datetime | None = None
    opens_at: datetime | None = None
    holiday_today: bool = False


def local_moment(day: date, clock: str, zone: tzinfo) -> datetime:
    """The instant of a wall-clock time (\"09:00\", or \"24:00\" for the day's end) on a day."""
    if clock == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), zone)
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hour, minute), zone)


def opening_state(hours: Hours | None, now: datetime, zone: tzinfo) -> OpeningState | None:
    """Open now or not, for offers with fixed hours (``None`` without them). Wall-clock times are
    interpreted in ``zone`` on each day, so a 09:00 opening stays 09:00 across DST changes."""
    if not hours:
        return None
    today = now.astimezone(zone).date()
    holiday_today = is_public_holiday(today)
    for offset in range(-1, LOOKAHEAD_DAYS):
        day = today + timedelta(days=offset)
        if is_public_holiday(day):
            continue
        for start, end in hours.get(WEEKDAYS[day.weekday()], []):
            opens, closes = local_moment(day, start, zone), local_moment(day, end, zone)
            if opens <= now < closes:
                return OpeningState(True, closes_at=closes, holiday_today=holiday_today)
            if opens > now:
                return OpeningState(False, opens_at=opens, holiday_today=holiday_today)
    return OpeningState(False, holiday_today=holiday_today)
