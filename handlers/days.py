"""Days and times in buttons, shared by booking and moving: a time travels as minutes since the epoch
(UTC), a day as YYYYMMDD; the day picker offers the first days that have free times."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from locales import Translator
from storage import slots

MAX_DAYS = 12


def minute_of(moment: datetime) -> int:
    """A time as a button carries it: whole minutes since the epoch."""
    return int(moment.timestamp() // 60)


def moment_of(minute: str | int) -> datetime:
    """The time a button's minutes stand for (UTC)."""
    return datetime.fromtimestamp(int(minute) * 60, UTC)


def day_code(day: date) -> str:
    """A day as a button carries it: YYYYMMDD."""
    return day.strftime("%Y%m%d")


def day_of(code: str) -> date | None:
    """The day a button's YYYYMMDD stands for, or ``None`` when it is no calendar day."""
    try:
        return datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        return None


def free_days(free: list[slots.Slot], zone: tzinfo) -> list[date]:
    """The first days (local dates) that have free times, for a day picker."""
    return sorted({slot.starts_at.astimezone(zone).date() for slot in free})[:MAX_DAYS]


def day_label(t: Translator, day: date) -> str:
    """A day on a day picker's button, in the reader's language."""
    return t.day(day)


def another_day_label(t: Translator) -> str:
    """The button back from a day's times to the day picker."""
    return t.pgettext("booking", "📅 Another day")
