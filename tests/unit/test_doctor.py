"""``wegweiser check``: one table, exit 0 when all is well and 1 with each problem named."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage import audit, health, people
from storage.crypto import CaseCipher, new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Role
from tests.support.cli import free_port, operator_environment, sandbox_in_a_thread


@pytest.fixture(autouse=True)
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    operator_environment(monkeypatch, tmp_path)
    return tmp_path


def rows(output: str) -> dict[str, tuple[str, str]]:
    """The table as {check: (status, detail)}."""
    header, *lines = output.strip().splitlines()
    assert header.split() == ["CHECK", "STATUS", "DETAIL"]
    table = {}
    for line in lines:
        name, rest = line[: header.index("STATUS")].strip(), line[header.index("STATUS") :]
        status, _, detail = rest.partition(" ")
        table[name] = (status, detail.strip())
    return table


def prepare(workdir: Path, key: str, *, started: bool) -> None:
    """A migrated database with an admin (who started the bot or not) and the key's canary."""

    async def go() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'data' / 'wegweiser.sqlite3'}")
        (workdir / "data").mkdir(exist_ok=True)
        try:
            await upgrade_to_head(engine)
            async with session_scope(create_session_factory(engine)) as session:
                now = datetime.now(UTC)
                if started:
                    await people.ensure_person(session, 7001, now)
                await people.add_staff(session, 7001, Role.ADMIN, "Jonas Keller", now)
                assert await health.case_key_fits(session, CaseCipher([key]), now)
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_a_healthy_installation_passes_every_check(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_key()
    prepare(workdir, key, started=True)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", key)
    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", new_key())
    monkeypatch.setenv("WEGWEISER_DESK_URL", "https://wegweiser.example.org/desk")
    with sandbox_in_a_thread() as (running, world):
        monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", world.token)
        monkeypatch.setenv("WEGWEISER_TELEGRAM_API_URL", running.api_url)

        assert main(["check"]) == 0

    table = rows(capsys.readouterr().out)
    assert list(table) == [
        "configuration",
        "database",
        "migrations",
        "case key",
        "audit key",
        "staff",
        "telegram",
        "desk address",
    ]
    assert {status for status, _ in table.values()} == {"ok"}, table
    assert table["telegram"][1].startswith("getMe answers: @")


def test_each_problem_is_reported_in_its_row(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(workdir, new_key(), started=False)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", new_key())  # not the key the data was written with
    monkeypatch.setenv("WEGWEISER_DESK_URL", "http://wegweiser.example.org/desk")
    monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", "123456789:not-the-token")
    monkeypatch.setenv("WEGWEISER_DESK_PORTT", "8081")
    with sandbox_in_a_thread() as (running, _world):
        monkeypatch.setenv("WEGWEISER_TELEGRAM_API_URL", running.api_url)

        assert main(["check"]) == 1

    output = capsys.readouterr().out
    table = rows(output)
    assert table["configuration"][0] == "FAIL" and "WEGWEISER_DESK_PORTT" in table["configuration"][1]
    assert table["database"][0] == "ok" and table["migrations"][0] == "ok"
    assert table["case key"][0] == "FAIL" and "WEGWEISER_CASE_DATA_KEY" in table["case key"][1]
    assert table["audit key"][0] == "FAIL" and "WEGWEISER_AUDIT_KEY is not set" in table["audit key"][1]
    assert table["staff"] == (
        "FAIL",
        "not reachable in Telegram: Jonas Keller (7001) has not started the bot yet",
    )
    assert table["telegram"][0] == "FAIL" and "rejected the token" in table["telegram"][1]
    assert table["desk address"][0] == "FAIL" and "https" in table["desk address"][1]
    assert "not-the-token" not in output


def test_an_audit_log_signed_with_a_dropped_key_is_reported(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case_key, old_audit_key, new_audit_key = new_key(), new_key(), new_key()
    prepare(workdir, case_key, started=True)

    async def write_an_entry() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'data' / 'wegweiser.sqlite3'}")
        try:
            sessions = audit.use_keys(create_session_factory(engine), [old_audit_key])
            async with session_scope(sessions) as session:
                await audit.record(
                    session,
                    actor_id=None,
                    actor_role="admin",
                    action="case.viewed",
                    case_number="HM-1",
                    now=datetime.now(UTC),
                )
        finally:
            await engine.dispose()

    asyncio.run(write_an_entry())
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", case_key)
    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", new_audit_key)  # the old key was dropped

    main(["check"])
    status, detail = rows(capsys.readouterr().out)["audit key"]
    assert status == "FAIL" and "keep the previous key after the new one" in detail

    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", f"{new_audit_key},{old_audit_key}")
    main(["check"])
    assert rows(capsys.readouterr().out)["audit key"][0] == "ok"


def test_an_unreachable_database_and_an_unmigrated_one_are_reported(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEGWEISER_DATABASE_URL", f"postgresql://wegweiser@127.0.0.1:{free_port()}/ww")
    assert main(["check"]) == 1
    table = rows(capsys.readouterr().out)
    assert table["database"][0] == "FAIL" and "no PostgreSQL server answers" in table["database"][1]
    assert table["migrations"][0] == "skipped"

    monkeypatch.delenv("WEGWEISER_DATABASE_URL")
    assert main(["check"]) == 1
    table = rows(capsys.readouterr().out)
    assert table["database"][0] == "ok"
    assert table["migrations"][0] == "FAIL" and "wegweiser db upgrade" in table["migrations"][1]
