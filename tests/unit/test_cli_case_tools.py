"""The operator's case-data tools: funding report, retention, audit check and key rotation."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from storage import audit
from storage.crypto import CaseCipher, new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.key_rotation import ENCRYPTED_COLUMNS
from storage.models import Case, CaseNote, NeedAssessment, Review
from tests.support.case_data import add_appointment, add_case, add_goal, add_person, local
from tests.support.cli import without_database_line
from tests.support.harness import TEST_AUDIT_KEY

T = TypeVar("T")
SETTINGS = (
    "TELEGRAM_TOKEN",
    "DATABASE_URL",
    "TIMEZONE",
    "CASE_DATA_KEY",
    "RETENTION_DAYS",
    "AUDIT_ANCHOR_FILE",
)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in SETTINGS:
        monkeypatch.delenv(f"WEGWEISER_{name}", raising=False)
    monkeypatch.setenv("WEGWEISER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", TEST_AUDIT_KEY)
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def in_database(tmp_path: Path, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one unit of work on the database the CLI uses."""

    async def run() -> T:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'wegweiser.sqlite3'}")
        try:
            async with session_scope(
                audit.use_keys(create_session_factory(engine), [TEST_AUDIT_KEY])
            ) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


# ---- keys ------------------------------------------------------------------------------------


def test_keys_new_prints_a_fresh_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new"]) == 0
    assert main(["keys", "new"]) == 0
    first, second = capsys.readouterr().out.split()

    assert first != second
    cipher = CaseCipher([first])
    assert cipher.decrypt(cipher.encrypt("Deutschkurs B1")) == "Deutschkurs B1"


def test_keys_rotate_without_a_key_names_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "rotate"]) == 2

    err = without_database_line(capsys.readouterr().err)
    assert "WEGWEISER_CASE_DATA_KEY" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def store_texts_encrypted_with(key: str, tmp_path: Path) -> None:
    cipher = CaseCipher([key])

    async def work(session: AsyncSession) -> None:
        person = await add_person(session, 1000)
        case = await add_case(session, person)
        case.extension_reason = cipher.encrypt("Familie zieht im Mai um")
        now = local(2026, 3, 2)
        await add_goal(session, case, now, text=cipher.encrypt("B1-Kurs abschließen") or "")
        goal = await add_goal(session, case, now, text=cipher.encrypt("Kita-Platz") or "")
        goal.steps = cipher.encrypt("Anmeldung bei der Gemeinde")
        session.add(
            NeedAssessment(case_id=case.id, area="work", note=cipher.encrypt("sucht Arbeit"), updated_at=now)
        )
        session.add(NeedAssessment(case_id=case.id, area="health", note=None, updated_at=now))
        session.add(
            Review(case_id=case.id, held_on=now.date(), summary=cipher.encrypt("gut"), created_at=now)
        )
        session.add(CaseNote(case_id=case.id, text=cipher.encrypt("Termin beim Jobcenter"), created_at=now))

    in_database(tmp_path, work)


def stored_texts(tmp_path: Path) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        values = []
        for column in ENCRYPTED_COLUMNS:
            values += [value for value in await session.scalars(select(column)) if value is not None]
        return values

    return in_database(tmp_path, work)


def test_keys_rotate_reencrypts_every_case_text_with_the_first_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    old, new = new_key(), new_key()
    store_texts_encrypted_with(old, isolated_settings)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", f"{new},{old}")

    assert main(["keys", "rotate"]) == 0

    assert "Re-encrypted 7 case texts" in capsys.readouterr().out
    readable = [CaseCipher([new]).decrypt(value) for value in stored_texts(isolated_settings)]
    assert sorted(readable) == sorted(
        [
            "sucht Arbeit",
            "B1-Kurs abschließen",
            "Kita-Platz",
            "Anmeldung bei der Gemeinde",
            "gut",
            "Termin beim Jobcenter",
            "Familie zieht im Mai um",
        ]
    )


def test_keys_rotate_changes_nothing_when_a_text_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    old, new = new_key(), new_key()
    store_texts_encrypted_with(old, isolated_settings)
    before = stored_texts(isolated_settings)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", new)  # the old key was dropped too early

    assert main(["keys", "rotate"]) == 1

    err = capsys.readouterr().err
    assert "nothing was changed" in err and "Traceback" not in err
    assert stored_texts(isolated_settings) == before


# ---- audit -----------------------------------------------------------------------------------


def test_audit_check_passes_an_intact_log_and_fails_a_forged_entry(
    capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    assert main(["audit", "check"]) == 0
    assert "audit log intact: 0 entries" in capsys.readouterr().out

    async def two_entries(session: AsyncSession) -> None:
        for action in ("case.read", "case.note_added"):
            await audit.record(
                session,
                actor_id=7,
                actor_role="advisor",
                action=action,
                case_number="W-ABCDEF",
                now=local(2026, 3, 2),
            )

    in_database(isolated_settings, two_entries)
    assert main(["audit", "check"]) == 0
    assert "audit log intact: 2 entries" in capsys.readouterr().out

    async def forge(session: AsyncSession) -> None:
        last = await session.scalar(text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"))
        await session.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, actor_role, action, case_number, previous_hash, hash) "
                "VALUES (:at, NULL, 'system', 'case.anonymised', 'W-ABCDEF', :previous, :forged)"
            ),
            {"at": datetime(2026, 3, 3), "previous": last, "forged": "f" * 64},
        )

    in_database(isolated_settings, forge)
    assert main(["audit", "check"]) == 1
    assert "audit log BROKEN at entry 3 (of 3)" in capsys.readouterr().out


# ---- retention -------------------------------------------------------------------------------


def test_retention_run_previews_then_anonymises_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    closed = datetime.now(UTC) - timedelta(days=300)

    async def closed_case(session: AsyncSession) -> str:
        case = await add_case(session, await add_person(session, 1000), status="closed", closed_at=closed)
        await add_goal(session, case, closed - timedelta(days=60))
        return case.number

    number = in_database(isolated_settings, closed_case)

    monkeypatch.setenv("WEGWEISER_RETENTION_DAYS", "365")
    assert main(["retention", "run"]) == 0
    first = capsys.readouterr().out
    assert "Anonymised no cases" in first and "Deleted 0 people" in first

    monkeypatch.delenv("WEGWEISER_RETENTION_DAYS")  # the default: 182 days
    assert main(["retention", "run", "--dry-run"]) == 0
    preview = capsys.readouterr().out
    assert "Would anonymise 1 case closed before" in preview and number in preview and "1 goals" in preview
    assert "Would delete 1 person without an open case or a booked appointment, last seen before" in preview

    assert main(["retention", "run"]) == 0
    done = capsys.readouterr().out
    assert "Anonymised 1 case closed before" in done and "Deleted 1 person" in done
    assert main(["retention", "run"]) == 0
    again = capsys.readouterr().out
    assert "Anonymised no cases" in again and "Deleted 0 people" in again

    async def state(session: AsyncSession) -> tuple[int | None, bool]:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return case.person_id, case.anonymised_at is not None

    assert in_database(isolated_settings, state) == (None, True)


# ---- report ----------------------------------------------------------------------------------


def add_march_consultations(tmp_path: Path) -> None:
    async def work(session: AsyncSession) -> None:
        anna = await add_person(session, 500, "Anna Berger")
        case = await add_case(session, await add_person(session, 1000))
        await add_appointment(session, case, local(2026, 3, 10), advisor=anna, kind="first")
        await add_appointment(session, case, local(2026, 3, 24), advisor=anna, status="no_show")
        await add_goal(session, case, local(2026, 3, 12))

    in_database(tmp_path, work)


def test_report_writes_the_csv_here_and_prints_the_summary(
    capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    add_march_consultations(isolated_settings)

    assert main(["report", "--from", "2026-03-01", "--to", "2026-03-31"]) == 0

    out = capsys.readouterr().out
    assert "Zeitraum / period: 01.03.2026 – 31.03.2026" in out
    assert "wegweiser-report-2026-03-01-2026-03-31.csv" in out
    path = isolated_settings / "wegweiser-report-2026-03-01-2026-03-31.csv"
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[1:] == [["2026-03", "Anna Berger", "ar", "1", "1", "1", "0", "1", "1"]]


def test_report_writes_where_it_is_told(capsys: pytest.CaptureFixture[str], isolated_settings: Path) -> None:
    out = isolated_settings / "reports" / "q1.csv"
    out.parent.mkdir()

    assert main(["report", "--from", "2026-01-01", "--to", "2026-03-31", "--out", str(out)]) == 0

    assert out.read_text(encoding="utf-8-sig").startswith("month,advisor,language,")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-04-01", "--to", "2026-03-01"], "wegweiser: --from must not be after --to"),
        (
            ["--from", "2026-01-01", "--to", "2026-03-31", "--out", "missing/q1.csv"],
            "wegweiser: cannot write",
        ),
    ],
)
def test_report_refuses_with_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *arguments]) in (1, 2)

    err = without_database_line(capsys.readouterr().err)
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_report_explains_a_wrong_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--from", "31.03.2026", "--to", "2026-03-31"])

    assert exit_.value.code == 2
    assert "'31.03.2026' is not a date like 2026-01-31" in capsys.readouterr().err


def test_audit_check_with_an_anchor_fails_when_the_newest_entries_were_removed(
    capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    async def three_entries(session: AsyncSession) -> None:
        for minute in range(3):
            await audit.record(
                session,
                actor_id=7,
                actor_role="advisor",
                action="case.read",
                case_number="W-ABCDEF",
                now=local(2026, 3, 2) + timedelta(minutes=minute),
            )

    in_database(isolated_settings, three_entries)
    assert main(["audit", "check"]) == 0
    anchor = capsys.readouterr().out.split("anchor ")[1].strip()
    anchor_file = isolated_settings / "anchors.txt"
    anchor_file.write_text(f"2026-03-02T06:00:00+00:00 {anchor}\n")

    async def remove_the_newest(session: AsyncSession) -> None:
        await session.execute(text("DROP TRIGGER audit_log_no_delete"))
        await session.execute(text("DELETE FROM audit_log WHERE id = 3"))

    in_database(isolated_settings, remove_the_newest)

    assert main(["audit", "check"]) == 0  # what is left still fits together...
    capsys.readouterr()
    assert main(["audit", "check", "--anchor", anchor]) == 1  # ...but the anchor counted more
    assert "entries were removed" in capsys.readouterr().out
    assert main(["audit", "check", "--anchor", str(anchor_file)]) == 1
    assert main(["audit", "check", "--anchor", "not-an-anchor"]) == 2
