"""The figures for the Verwendungsnachweis (proof of how the funding was used), by local-time month,
advisor and consultation language.

- people counselled: distinct cases with at least one attended consultation
- first consultations held: attended consultations of kind "first"
- integration plans written: cases whose first goal was written in the period
- reviews held: plan reviews (Fortschreibungen) held in the period
- consultations held: attended consultations of any kind
- no-shows: consultations the person did not come to

A person counselled in two months (or by two advisors) counts once in each of those rows and once
in the totals, so the rows of "people counselled" do not add up to the total. Anonymised cases
still count: their appointments, goals and reviews keep everything the report reads (dates and
advisors, never texts).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appointment, AppointmentKind, AppointmentStatus, Case, Goal, Person, Review

NONE = "–"


@dataclass(frozen=True)
class Figures:
    people_counselled: int = 0
    first_consultations_held: int = 0
    integration_plans_written: int = 0
    reviews_held: int = 0
    consultations_held: int = 0
    no_shows: int = 0


FIGURE_NAMES = tuple(figure.name for figure in fields(Figures))
FIGURE_LABELS = {
    "people_counselled": ("Beratene Personen", "people counselled"),
    "first_consultations_held": ("Erstberatungen", "first consultations held"),
    "integration_plans_written": ("Integrationspläne erstellt", "integration plans written"),
    "reviews_held": ("Fortschreibungen", "plan reviews held"),
    "consultations_held": ("Beratungsgespräche", "consultations held"),
    "no_shows": ("Nicht erschienen", "no-shows"),
}


@dataclass(frozen=True)
class ReportRow:
    month: str  # "2026-03", local time
    advisor: str  # the staff member's name, or "–"
    language: str  # the consultation language, or "–"
    figures: Figures


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    rows: tuple[ReportRow, ...]  # only combinations with something to count
    months: dict[str, Figures]  # every month of the period, empty ones too
    advisors: dict[str, Figures]
    totals: Figures


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    people: set[int] = field(default_factory=set)

    def add(self, figure: str, case_id: int) -> None:
        if figure == "people_counselled":
            self.people.add(case_id)
        else:
            self.counts[figure] += 1

    def figures(self) -> Figures:
        return Figures(people_counselled=len(self.people), **self.counts)


@dataclass(frozen=True)
class _Event:
    month: str
    advisor_id: int | None
    language: str | None
    figure: str
    case_id: int


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(_month(date(year, month, 1)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _utc_bounds(start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The period as UTC instants: from local midnight of ``start`` to local midnight after ``end``."""
    return (
        datetime.combine(start, time(0), zone).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC),
    )


async def _appointment_events(
    session: AsyncSession, begin: datetime, until: datetime, zone: tzinfo
) -> list[_Event]:
    rows = await session.execute(
        select(
            Appointment.case_id,
            Appointment.advisor_id,
            Appointment.language,
            Appointment.kind,
            Appointment.status,
            Appointment.starts_at,
        ).where(
            Appointment.starts_at >= begin,
            Appointment.starts_at < until,
            Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW]),
        )
    )
    events = []
    for case_id, advisor_id, language, kind, status, starts_at in rows:
        month = _month(starts_at.astimezone(zone))
        if status == AppointmentStatus.NO_SHOW:
            events.append(_Event(month, advisor_id, language, "no_shows", case_id))
            continue
        events.append(_Event(month, advisor_id, language, "consultations_held", case_id))
        events.append(_Event(month, advisor_id, language, "people_counselled", case_id))
        if kind == AppointmentKind.FIRST:
            events.append(_Event(month, advisor_id, language, "first_consultations_held", case_id))
    return events


async def _case_owners(
    session: AsyncSession, case_ids: Iterable[int]
) -> dict[int, tuple[int | None, str | None]]:
    """Each case's advisor and language: as recorded on the case, or else those of its earliest
    consultation that was not cancelled."""
    case_ids = set(case_ids)
    if not case_ids:
        return {}
    owners = {
        case_id: (advisor_id, language)
        for case_id, advisor_id, language in await session.execute(
            select(Case.id, Case.advisor_id, Case.language).where(Case.id.in_(case_ids))
        )
    }
    appointments = await session.execute(
        select(Appointment.case_id, Appointment.advisor_id, Appointment.language)
        .where(Appointment.case_id.in_(case_ids), Appointment.status != AppointmentStatus.CANCELLED)
        .order_by(Appointment.starts_at)
    )
    earliest: dict[int, tuple[int | None, str | None]] = {}
    for case_id, advisor_id, language in appointments:
        earliest.setdefault(case_id, (advisor_id, language))
    owned = {}
    for case_id, (advisor_id, language) in owners.items():
        first_advisor, first_language = earliest.get(case_id, (None, None))
        owned[case_id] = (advisor_id or first_advisor, language or first_language)
    return owned


async def _plan_events(session: AsyncSession, begin: datetime, until: datetime, zone: tzinfo) -> list[_Event]:
    first_goal = func.min(Goal.created_at)
    firsts = (
        await session.execute(
            select(Goal.case_id, first_goal)
            .group_by(Goal.case_id)
            .having(first_goal >= begin, first_goal < until)
        )
    ).all()
    owners = await _case_owners(session, (case_id for case_id, _ in firsts))
    return [
        _Event(_month(written_at.astimezone(zone)), *owners[case_id], "integration_plans_written", case_id)
        for case_id, written_at in firsts
    ]


async def _review_events(session: AsyncSession, start: date, end: date) -> list[_Event]:
    reviews = (
        await session.execute(
            select(Review.case_id, Review.created_by, Review.held_on).where(
                Review.held_on >= start, Review.held_on <= end
            )
        )
    ).all()
    owners = await _case_owners(session, (case_id for case_id, _, _ in reviews))
    return [
        _Event(_month(held_on), created_by or owners[case_id][0], owners[case_id][1], "reviews_held", case_id)
        for case_id, created_by, held_on in reviews
    ]


async def _advisor_names(session: AsyncSession, advisor_ids: set[int]) -> dict[int, str]:
    """Staff names; someone no longer staff is shown with their Telegram id."""
    if not advisor_ids:
        return {}
    people = await session.execute(
        select(Person.id, Person.staff_name, Person.telegram_id).where(Person.id.in_(advisor_ids))
    )
    return {
        person_id: name or f"former staff member {telegram_id}" for person_id, name, telegram_id in people
    }


async def funding_report(session: AsyncSession, start: date, end: date, zone: tzinfo) -> Report:
    """The figures from ``start`` to ``end`` (both included, local dates in ``zone``)."""
    if start > end:
        raise ValueError("the period must not end before it starts")
    begin, until = _utc_bounds(start, end, zone)
    events = [
        *await _appointment_events(session, begin, until, zone),
        *await _plan_events(session, begin, until, zone),
        *await _review_events(session, start, end),
    ]
    names = await _advisor_names(session, {e.advisor_id for e in events if e.advisor_id is not None})
    rows: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    months: dict[str, _Tally] = {month: _Tally() for month in _months(start, end)}
    advisors: dict[str, _Tally] = defaultdict(_Tally)
    totals = _Tally()
    for event in events:
        advisor = names.get(event.advisor_id, NONE) if event.advisor_id is not None else NONE
        for tally in (
            rows[event.month, advisor, event.language or NONE],
            months[event.month],
            advisors[advisor],
            totals,
        ):
            tally.add(event.figure, event.case_id)
    return Report(
        start=start,
        end=end,
        rows=tuple(
            ReportRow(month, advisor, language, tally.figures())
            for (month, advisor, language), tally in sorted(rows.items())
        ),
        months={month: tally.figures() for month, tally in months.items()},
        advisors={advisor: tally.figures() for advisor, tally in sorted(advisors.items())},
        totals=totals.figures(),
    )


def write_csv(report: Report, path: Path) -> None:
    """One row per month × advisor × language; UTF-8 with a byte-order mark, so spreadsheets
    show umlauts and the dash correctly."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["month", "advisor", "language", *FIGURE_NAMES])
        for row in report.rows:
            writer.writerow(
                [row.month, row.advisor, row.language, *(getattr(row.figures, n) for n in FIGURE_NAMES)]
            )


COLUMNS = (  # German above English, short enough for one line per month
    ("Personen", "people"),
    ("Erstber.", "first"),
    ("Pläne", "plans"),
    ("Fortschr.", "reviews"),
    ("Gespräche", "consult."),
    ("n. erschienen", "no-shows"),
)


def _table(title: str, heading: tuple[str, str], lines: dict[str, Figures]) -> list[str]:
    header_rows = [
        [heading[0], *(german for german, _ in COLUMNS)],
        [heading[1], *(english for _, english in COLUMNS)],
    ]
    body = [[key, *(str(getattr(figures, n)) for n in FIGURE_NAMES)] for key, figures in lines.items()]
    widths = [max(len(cells[i]) for cells in [*header_rows, *body]) for i in range(len(COLUMNS) + 1)]
    text = [title]
    for cells in [*header_rows, *body]:
        padded = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        text.append("  " + "  ".join(padded).rstrip())
    return text


def summary_text(report: Report) -> str:
    """A plain-text summary in German and English: totals, then one line per month and per advisor."""
    first, last = (format_date(day, "medium", locale="de") for day in (report.start, report.end))
    period = f"{first} – {last}"
    lines = [
        "Wegweiser – Verwendungsnachweis / funding report",
        f"Zeitraum / period: {period}",
        "",
        "Gesamt / totals",
    ]
    width = max(len(f"{german} / {english}") for german, english in FIGURE_LABELS.values())
    for name in FIGURE_NAMES:
        german, english = FIGURE_LABELS[name]
        lines.append(f"  {f'{german} / {english}':<{width}}  {getattr(report.totals, name):>6}")
    lines += ["", *_table("Nach Monat / by month", ("Monat", "month"), report.months)]
    if report.advisors:
        lines += [
            "",
            *_table("Nach Beratungskraft / by advisor", ("Beratungskraft", "advisor"), report.advisors),
        ]
    lines += [
        "",
        "Beratene Personen zählen je Zeile einmal; die Zeilen ergeben daher nicht die Summe.",
        "People counselled count once per line, so the lines do not add up to the total.",
    ]
    return "\n".join(lines)
