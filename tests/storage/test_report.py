"""The funding report (Verwendungsnachweis) on SQLite and PostgreSQL: exact figures by local-time
month, advisor and language, also across month boundaries that differ between UTC and Berlin."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from storage import report
from storage.db import SessionFactory, session_scope
from storage.report import Figures, ReportRow
from tests.support.case_data import (
    BERLIN,
    add_appointment,
    add_case,
    add_goal,
    add_person,
    add_review,
    local,
)

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 30)
ANNA, BEN = "Anna Berger", "Ben Yilmaz"


@pytest.fixture
async def spring(sessions: SessionFactory) -> None:
    """Four cases with consultations, plans and reviews in and around March and April 2026."""
    async with session_scope(sessions) as session:
        anna = await add_person(session, 500, ANNA)
        ben = await add_person(session, 501, BEN)
        people = [await add_person(session, 1000 + n) for n in range(4)]

        one = await add_case(session, people[0])
        await add_appointment(session, one, local(2026, 3, 10), advisor=anna, kind="first")
        await add_appointment(session, one, local(2026, 3, 31, 23, 30), advisor=anna)  # March in Berlin
        await add_appointment(session, one, local(2026, 4, 1, 0, 30), advisor=anna)  # April here, March UTC
        await add_goal(session, one, local(2026, 3, 20))  # the plan: its first goal
        await add_goal(session, one, local(2026, 4, 5))
        await add_review(session, one, local(2026, 4, 15), by=anna)

        two = await add_case(session, people[1])
        await add_appointment(
            session, two, local(2026, 3, 1, 0, 30), advisor=ben, kind="first", language="uk"
        )
        await add_appointment(session, two, local(2026, 4, 10), advisor=ben, status="no_show", language="uk")
        await add_appointment(
            session, two, local(2026, 4, 12), advisor=ben, status="cancelled", language="uk"
        )
        await add_appointment(session, two, local(2026, 4, 20), advisor=ben, status="booked", language="uk")
        await add_goal(session, two, local(2026, 2, 20))  # plan written before the period
        await add_goal(session, two, local(2026, 3, 20))
        await add_review(session, two, local(2026, 3, 5))  # no author: the case's advisor counts

        three = await add_case(session, people[2], language="tr")
        await add_appointment(
            session, three, local(2026, 3, 15), advisor=anna, status="no_show", kind="first", language="de"
        )
        await add_appointment(session, three, local(2026, 4, 2), advisor=anna, kind="first", language=None)
        await add_goal(session, three, local(2026, 4, 30, 23, 30))  # still April in Berlin

        four = await add_case(session, people[3])
        await add_appointment(session, four, local(2026, 2, 28, 23, 30), advisor=anna)  # before the period
        await add_appointment(session, four, local(2026, 4, 3), advisor=None, language="fa")
        await add_appointment(session, four, local(2026, 5, 1, 0, 30), advisor=anna)  # after: April 30 in UTC
        await add_goal(session, four, local(2026, 5, 1, 0, 30))


async def spring_report(sessions: SessionFactory) -> report.Report:
    async with session_scope(sessions) as session:
        return await report.funding_report(session, MARCH, APRIL, BERLIN)


@pytest.mark.usefixtures("spring")
async def test_the_report_counts_each_figure_by_local_month_advisor_and_language(
    sessions: SessionFactory,
) -> None:
    result = await spring_report(sessions)

    assert result.rows == (
        ReportRow("2026-03", ANNA, "ar", Figures(1, 1, 1, 0, 2, 0)),
        ReportRow("2026-03", ANNA, "de", Figures(no_shows=1)),
        ReportRow("2026-03", BEN, "uk", Figures(1, 1, 0, 1, 1, 0)),
        ReportRow("2026-04", ANNA, "ar", Figures(people_counselled=1, reviews_held=1, consultations_held=1)),
        ReportRow("2026-04", ANNA, "tr", Figures(integration_plans_written=1)),
        ReportRow("2026-04", ANNA, "–", Figures(1, 1, 0, 0, 1, 0)),
        ReportRow("2026-04", BEN, "uk", Figures(no_shows=1)),
        ReportRow("2026-04", "–", "fa", Figures(people_counselled=1, consultations_held=1)),
    )
    assert result.months == {"2026-03": Figures(2, 2, 1, 1, 3, 1), "2026-04": Figures(3, 1, 1, 1, 3, 1)}
    assert result.advisors == {
        ANNA: Figures(2, 2, 2, 1, 4, 1),
        BEN: Figures(1, 1, 0, 1, 1, 1),
        "–": Figures(1, 0, 0, 0, 1, 0),
    }
    assert result.totals == Figures(4, 3, 2, 2, 6, 2)


@pytest.mark.usefixtures("spring")
async def test_a_month_counts_what_happened_in_it_in_local_time(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        march = await report.funding_report(session, MARCH, date(2026, 3, 31), BERLIN)
        april = await report.funding_report(session, date(2026, 4, 1), APRIL, BERLIN)

    # 23:30 on 31 March is March; 00:30 on 1 April (22:30 UTC on 31 March) is April.
    assert march.totals.consultations_held == 3 and april.totals.consultations_held == 3
    assert list(march.months) == ["2026-03"] and list(april.months) == ["2026-04"]


async def test_a_period_without_activity_lists_its_months_with_zeros(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        result = await report.funding_report(session, date(2026, 11, 15), date(2027, 1, 10), BERLIN)

    assert result.rows == ()
    assert result.months == {"2026-11": Figures(), "2026-12": Figures(), "2027-01": Figures()}
    assert result.totals == Figures()


async def test_a_former_advisor_keeps_a_recognisable_line(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        former = await add_person(session, 777, None)
        case = await add_case(session, await add_person(session, 1))
        await add_appointment(session, case, local(2026, 3, 3), advisor=former)

    result = await spring_report(sessions)

    assert [row.advisor for row in result.rows] == ["former staff member 777"]


@pytest.mark.usefixtures("spring")
async def test_the_csv_has_one_row_per_month_advisor_and_language(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    path = tmp_path / "report.csv"

    report.write_csv(await spring_report(sessions), path)

    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets read it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == [
        "month",
        "advisor",
        "language",
        "people_counselled",
        "first_consultations_held",
        "integration_plans_written",
        "reviews_held",
        "consultations_held",
        "no_shows",
    ]
    assert rows[1] == ["2026-03", ANNA, "ar", "1", "1", "1", "0", "2", "0"]
    assert rows[-1] == ["2026-04", "–", "fa", "1", "0", "0", "0", "1", "0"]
    assert len(rows) == 9


@pytest.mark.usefixtures("spring")
async def test_the_summary_gives_totals_and_a_line_per_month(sessions: SessionFactory) -> None:
    text = report.summary_text(await spring_report(sessions))

    assert "Zeitraum / period: 01.03.2026 – 30.04.2026" in text
    assert "Beratene Personen / people counselled" in text
    lines = text.splitlines()
    totals = {line.rsplit(None, 1)[0].strip(): int(line.rsplit(None, 1)[1]) for line in lines[4:10]}
    assert totals == {
        "Beratene Personen / people counselled": 4,
        "Erstberatungen / first consultations held": 3,
        "Integrationspläne erstellt / integration plans written": 2,
        "Fortschreibungen / plan reviews held": 2,
        "Beratungsgespräche / consultations held": 6,
        "Nicht erschienen / no-shows": 2,
    }
    assert [line.split() for line in lines if line.strip().startswith("2026-")] == [
        ["2026-03", "2", "2", "1", "1", "3", "1"],
        ["2026-04", "3", "1", "1", "1", "3", "1"],
    ]
    assert any(
        line.split() == [ANNA.split()[0], ANNA.split()[1], "2", "2", "2", "1", "4", "1"] for line in lines
    )
