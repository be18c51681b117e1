"""Dated events of offers on SQLite and PostgreSQL: written as one line, imported and exported with
offers, weekly ones skipping holidays and exceptions, and the next seven days in time order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage import events, offer_files
from storage.db import SessionFactory, session_scope
from storage.events import EventRule, InvalidEvent

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
# Easter Monday 2026 is 6 April, a public holiday in Baden-Württemberg.
FILE = """\
offers:
  - slug: fussball-training
    category: leisure
    address: Sportplatz Hemmingen
    texts:
      de: {name: Fußballtraining, summary: Offenes Training für alle.}
    events:
      - weekly mon 18:00-19:30 from 2026-03-02 until 2026-07-27 except 2026-04-13
  - slug: sprachcafe
    category: language
    texts:
      de: {name: Sprachcafé, summary: Deutsch sprechen bei Kaffee und Tee.}
    events:
      - once 2026-04-02 16:00-18:00 at Rathaus, Bürgersaal
      - weekly wed 16:00-18:00 from 2026-01-07
  - slug: altes-angebot
    category: language
    status: archived
    texts:
      de: {name: Archiviert, summary: Nicht mehr da.}
    events:
      - weekly tue 10:00-11:00 from 2026-01-06
"""


@pytest.mark.parametrize(
    "line",
    [
        "weekly tue 18:00-20:00 from 2026-01-13 until 2026-07-28 except 2026-04-07, 2026-05-26 at Sporthalle",
        "weekly sun 09:30-11:00 from 2026-01-04",
        "once 2026-12-12 14:00-17:00 at Rathaus, Bürgersaal",
        "once 2026-12-12 14:00-17:00",
    ],
)
def test_an_event_line_reads_back_as_written(line: str) -> None:
    assert events.format_event(events.parse_event(line)) == line


def test_a_weekly_event_starts_on_its_weekday_on_or_after_the_first_date() -> None:
    rule = events.parse_event("weekly fri 10:00-11:00 from 2026-03-30")
    assert rule.first_day == date(2026, 4, 3)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("every tuesday", "write e.g."),
        ("once 2026-02-30 10:00-11:00", "not a real date"),
        ("once 2026-02-03 11:00-10:00", "end time"),
        ("once 2026-02-03 25:00-26:00", "not a time"),
        ("weekly mon 10:00-11:00 from 2026-05-04 until 2026-05-01", "before the first"),
    ],
)
def test_a_wrong_line_says_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(InvalidEvent, match=says):
        events.parse_event(line)


def test_weekly_events_skip_public_holidays_and_exceptions() -> None:
    rule = EventRule(True, date(2026, 3, 30), None, time(18), time(19), None, (date(2026, 4, 13),))

    days = events.days_of(rule, date(2026, 3, 30), date(2026, 4, 20))

    assert days == [date(2026, 3, 30), date(2026, 4, 20)], "Easter Monday and the exception are skipped"


async def import_text(sessions: SessionFactory, path: Path, text: str) -> offer_files.ImportResult:
    path.write_text(text, encoding="utf-8")
    async with session_scope(sessions) as session:
        return await offer_files.import_offers(session, path, NOW)


async def test_the_next_seven_days_list_each_event_in_time_order(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await import_text(sessions, tmp_path / "offers.yaml", FILE)

    async with session_scope(sessions) as session:
        week = await events.upcoming(session, date(2026, 3, 30), BERLIN)

    assert [
        (o.offer.slug, o.starts_at.astimezone(BERLIN).strftime("%a %d %H:%M"), o.place) for o in week
    ] == [
        ("fussball-training", "Mon 30 18:00", "Sportplatz Hemmingen"),
        ("sprachcafe", "Wed 01 16:00", None),
        ("sprachcafe", "Thu 02 16:00", "Rathaus, Bürgersaal"),
    ], "Easter Monday (6 April) is outside; the archived offer is not shown"
    assert week[0].starts_at == datetime(2026, 3, 30, 16, 0, tzinfo=UTC), "summer time in Berlin"


async def test_one_occurrence_is_found_only_on_a_day_the_event_takes_place(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await import_text(sessions, tmp_path / "offers.yaml", FILE)
    async with session_scope(sessions) as session:
        (first, *_) = await events.upcoming(session, date(2026, 3, 30), BERLIN)
        same = await events.occurrence(session, first.event_id, date(2026, 3, 30), date(2026, 3, 30), BERLIN)
        holiday = await events.occurrence(
            session, first.event_id, date(2026, 4, 6), date(2026, 3, 30), BERLIN
        )
        tuesday = await events.occurrence(
            session, first.event_id, date(2026, 3, 31), date(2026, 3, 30), BERLIN
        )

    assert same is not None and same.starts_at == first.starts_at
    assert (holiday, tuesday) == (None, None)


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
async def test_events_survive_export_and_import(
    sessions: SessionFactory, tmp_path: Path, suffix: str
) -> None:
    await import_text(sessions, tmp_path / "offers.yaml", FILE)
    exported = tmp_path / f"export{suffix}"
    async with session_scope(sessions) as session:
        await offer_files.export_offers(session, exported, date(2026, 3, 30))

    again = await import_text(sessions, exported, exported.read_text(encoding="utf-8"))

    assert sorted(again.unchanged) == ["altes-angebot", "fussball-training", "sprachcafe"]
    assert "weekly wed 16:00-18:00 from 2026-01-07" in exported.read_text(encoding="utf-8")


async def test_changing_an_event_in_the_file_replaces_it(sessions: SessionFactory, tmp_path: Path) -> None:
    await import_text(sessions, tmp_path / "offers.yaml", FILE)

    result = await import_text(
        sessions, tmp_path / "offers.yaml", FILE.replace("from 2026-01-07", "from 2026-01-07 at Jugendhaus")
    )

    assert result.updated == ["sprachcafe"]
    async with session_scope(sessions) as session:
        week = await events.upcoming(session, date(2026, 3, 30), BERLIN)
    assert [o.place for o in week if o.offer.slug == "sprachcafe"] == ["Jugendhaus", "Rathaus, Bürgersaal"]


async def test_a_wrong_event_line_rejects_the_file_with_its_line(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    with pytest.raises(offer_files.ImportRejected) as rejected:
        await import_text(sessions, tmp_path / "offers.yaml", FILE.replace("until 2026-07-27", "until soon"))

    (problem,) = rejected.value.problems
    assert (problem.line, problem.field) == (7, "events")
    assert "event 1" in problem.message
