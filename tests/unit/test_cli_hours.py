"""``wegweiser hours``: admins set an advisor's consultation hours, absences, languages and place."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config import load_settings
from storage import advisors, people
from storage.db import create_engine, create_session_factory, session_scope
from storage.models import Appointment
from tests.support.case_data import add_appointment, add_case, add_person
from tests.support.cli import without_database_line

ANNA = "424242"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("WEGWEISER_TELEGRAM_TOKEN", "WEGWEISER_DATABASE_URL", "WEGWEISER_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEGWEISER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def advisor(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["staff", "add", ANNA, "--role", "advisor", "--name", "Anna Berger"]) == 0
    capsys.readouterr()
    return ANNA


def stored() -> tuple[dict[int, list[tuple[str, str]]], list[tuple[date, date]], list[str], str | None]:
    """What the database holds for Anna: weekly hours, absences, languages, place."""

    async def read() -> tuple:
        engine = create_engine(load_settings().resolved_database_url())
        try:
            async with session_scope(create_session_factory(engine)) as session:
                anna = await people.person_by_telegram_id(session, int(ANNA))
                assert anna is not None
                weekly = await advisors.weekly_hours(session, anna.id)
                absences = await advisors.absences(session, anna.id, date(2000, 1, 1))
                profile = await advisors.profile(session, anna.id)
                return (
                    weekly,
                    [(absence.first_day, absence.last_day) for absence in absences],
                    profile.languages,
                    profile.place,
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_an_admin_sets_weekly_hours_and_clears_a_day(
    capsys: pytest.CaptureFixture[str], advisor: str
) -> None:
    assert main(["hours", "set", advisor, "tue", "09:00-12:00, 14:00-16:00"]) == 0
    assert main(["hours", "set", advisor, "thu", "10:00-12:00"]) == 0
    assert main(["hours", "set", advisor, "thu", "-"]) == 0

    out = capsys.readouterr().out
    assert "  tue  09:00-12:00, 14:00-16:00" in out and "  thu  -" in out.splitlines()[-10:]
    assert stored()[0] == {1: [("09:00", "12:00"), ("14:00", "16:00")]}


@pytest.mark.parametrize(
    ("ranges", "message"),
    [("9 to 12", "is not a time range like 09:00-12:00"), ("09:15-12:00", "hour or half hour")],
)
def test_wrong_hours_get_one_clear_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], advisor: str, ranges: str, message: str
) -> None:
    assert main(["hours", "set", advisor, "mon", "09:00-12:00"]) == 0
    capsys.readouterr()

    assert main(["hours", "set", advisor, "mon", ranges]) == 2

    err = without_database_line(capsys.readouterr().err)
    assert message in err and "nothing was changed" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert stored()[0] == {0: [("09:00", "12:00")]}


def test_absences_are_added_listed_with_their_ids_and_removed(
    capsys: pytest.CaptureFixture[str], advisor: str
) -> None:
    next_year = datetime.now(UTC).year + 1
    assert main(["hours", "absence-add", advisor, f"{next_year}-03-10", f"{next_year}-03-14"]) == 0
    assert main(["hours", "absence-add", advisor, f"{next_year}-04-01"]) == 0
    capsys.readouterr()
    assert stored()[1] == [
        (date(next_year, 3, 10), date(next_year, 3, 14)),
        (date(next_year, 4, 1), date(next_year, 4, 1)),
    ]

    assert main(["hours", "show", advisor]) == 0
    listed = capsys.readouterr().out
    first_id = listed.split("Absences:\n", 1)[1].split("\t", 1)[0].strip()
    assert main(["hours", "absence-remove", advisor, first_id]) == 0
    assert main(["hours", "absence-remove", advisor, first_id]) == 1
    assert f"has no absence {first_id}" in capsys.readouterr().err
    assert stored()[1] == [(date(next_year, 4, 1), date(next_year, 4, 1))]

    assert main(["hours", "absence-add", advisor, f"{next_year}-03-14", f"{next_year}-03-10"]) == 2
    assert "ends on or after its first day" in capsys.readouterr().err


def test_languages_and_place_are_set(capsys: pytest.CaptureFixture[str], advisor: str) -> None:
    assert main(["hours", "languages", advisor, "de,en,ar"]) == 0
    assert main(["hours", "place", advisor, "Rathaus Hemmingen, Zimmer 12"]) == 0
    out = capsys.readouterr().out
    assert "Languages: de, en, ar" in out and "Place: Rathaus Hemmingen, Zimmer 12" in out

    assert main(["hours", "languages", advisor, "de,klingon"]) == 2
    assert "is not a list of language codes" in capsys.readouterr().err
    assert stored()[2:] == (["de", "en", "ar"], "Rathaus Hemmingen, Zimmer 12")

    assert main(["hours", "place", advisor, "-"]) == 0
    assert "Place: not set (the bot shows Rathaus Hemmingen)" in capsys.readouterr().out


def test_the_target_must_be_an_advisor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "515151", "--role", "admin", "--name", "Jonas"]) == 0
    capsys.readouterr()

    assert main(["hours", "show", "515151"]) == 1
    assert main(["hours", "set", "999", "mon", "09:00-12:00"]) == 1

    err = capsys.readouterr().err
    assert "515151 is not an advisor" in err and "999 is not an advisor" in err
    assert "Traceback" not in err


def test_a_wrong_weekday_or_date_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["hours", "set", "1", "monday", "09:00-12:00"])
    with pytest.raises(SystemExit):
        main(["hours", "absence-add", "1", "10.03.2026"])
    assert "is not a date like" in capsys.readouterr().err


def book_anna_in(days: int) -> tuple[int, str]:
    """A booked appointment with Anna at 10:00 local time ``days`` from today: its id and case number."""

    async def add() -> tuple[int, str]:
        engine = create_engine(load_settings().resolved_database_url())
        try:
            async with session_scope(create_session_factory(engine)) as session:
                anna = await people.person_by_telegram_id(session, int(ANNA))
                amira = await add_person(session, 777)
                case = await add_case(session, amira)
                day = datetime.now(UTC).astimezone(BERLIN).date() + timedelta(days=days)
                starts_at = datetime.combine(day, time(10), BERLIN).astimezone(UTC)
                appointment = await add_appointment(session, case, starts_at, advisor=anna, status="booked")
                return appointment.id, case.number
        finally:
            await engine.dispose()

    return asyncio.run(add())


def appointment_status(appointment_id: int) -> str:
    async def read() -> str:
        engine = create_engine(load_settings().resolved_database_url())
        try:
            async with session_scope(create_session_factory(engine)) as session:
                appointment = await session.get(Appointment, appointment_id)
                assert appointment is not None
                return appointment.status
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_an_absence_over_a_booking_lists_it_and_cancels_only_when_told(
    capsys: pytest.CaptureFixture[str], advisor: str
) -> None:
    appointment_id, number = book_anna_in(days=10)
    day = (datetime.now(UTC).astimezone(BERLIN).date() + timedelta(days=10)).isoformat()

    assert main(["hours", "absence-add", advisor, day]) == 1
    err = capsys.readouterr().err
    assert "1 booked appointment(s) fall in this absence" in err and number in err
    assert "--cancel-appointments" in err and "nothing was changed" in err
    assert stored()[1] == [] and appointment_status(appointment_id) == "booked"

    assert main(["hours", "absence-add", advisor, day, "--keep-appointments"]) == 0
    assert appointment_status(appointment_id) == "booked"
    capsys.readouterr()

    assert main(["hours", "absence-add", advisor, day, "--cancel-appointments"]) == 0
    out = capsys.readouterr().out
    assert "Cancelled 1 appointment(s)" in out and number in out and "please tell them" in out
    assert appointment_status(appointment_id) == "cancelled"


def test_an_absence_that_is_already_over_is_refused(capsys: pytest.CaptureFixture[str], advisor: str) -> None:
    assert main(["hours", "absence-add", advisor, "2020-03-10", "2020-03-14"]) == 2
    assert "this absence is already over; nothing was changed" in capsys.readouterr().err
    assert stored()[1] == []
