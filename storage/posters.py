"""Posters that bring people to the bot: the deep-link payload of a poster source, and how many
people arrived through each source (counted per day, as numbers only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import dialect_name, upsert_insert
from storage.models import Person, PosterArrival

PAYLOAD_PREFIX = "p_"
SOURCE_SHAPE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
NEW_WITHIN = timedelta(minutes=1)


def valid_source(source: str) -> bool:
    """Whether a poster source name is well formed: 1–32 lowercase letters, digits or dashes."""
    return SOURCE_SHAPE.fullmatch(source) is not None


def start_payload(source: str) -> str:
    """The ``/start`` payload a poster of this source carries (Telegram allows ``A-Za-z0-9_-``)."""
    if not valid_source(source):
        raise ValueError("a poster source is 1-32 lowercase letters, digits or dashes")
    return PAYLOAD_PREFIX + source


def source_of_payload(payload: str) -> str | None:
    """The poster source a ``/start`` payload names, or ``None`` when it is not a well-formed one."""
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    source = payload.removeprefix(PAYLOAD_PREFIX)
    return source if valid_source(source) else None


def deep_link(bot_username: str, source: str) -> str:
    """The link a poster's QR code carries."""
    return f"https://t.me/{bot_username}?start={start_payload(source)}"


async def count_arrival(
    session: AsyncSession, source: str, person_id: int, now: datetime, zone: tzinfo
) -> None:
    """Count one ``/start`` through a poster of ``source`` today (local date); it counts as a new
    person when the bot first saw them at most :data:`NEW_WITHIN` before (the scan brought them).
    Only the numbers are stored: nothing links the person to the source."""
    person = await session.get(Person, person_id)
    new_person = person is not None and person.first_seen >= now - NEW_WITHIN
    await record_arrival(session, source, now.astimezone(zone).date(), new_person=new_person)


async def record_arrival(session: AsyncSession, source: str, day: date, *, new_person: bool) -> None:
    """Add one arrival through a poster of ``source`` on ``day`` (local date) to the counts."""
    if not valid_source(source):
        raise ValueError("not a poster source")
    values = {"source": source, "day": day, "starts": 1, "new_people": int(new_person)}
    statement = upsert_insert(dialect_name(session))(PosterArrival).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[PosterArrival.source, PosterArrival.day],
        set_={
            "starts": PosterArrival.starts + 1,
            "new_people": PosterArrival.new_people + int(new_person),
        },
    )
    await session.execute(statement)


@dataclass(frozen=True)
class SourceFigures:
    """Arrivals through one poster source in a period."""

    source: str
    starts: int
    new_people: int


async def arrivals(session: AsyncSession, start: date, end: date) -> list[SourceFigures]:
    """Arrivals per poster source between two local dates (both included), most first."""
    rows = await session.execute(
        select(PosterArrival.source, func.sum(PosterArrival.starts), func.sum(PosterArrival.new_people))
        .where(PosterArrival.day >= start, PosterArrival.day <= end)
        .group_by(PosterArrival.source)
    )
    figures = [SourceFigures(source, int(starts), int(new)) for source, starts, new in rows]
    return sorted(figures, key=lambda figure: (-figure.starts, figure.source))
