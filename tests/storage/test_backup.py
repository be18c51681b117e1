"""Backups: ``wegweiser backup`` of a populated database, ``wegweiser restore`` into a fresh one,
then the audit chain checks out and every case text reads back, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage import audit, cases
from storage.crypto import CaseCipher, new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.key_rotation import ENCRYPTED_COLUMNS
from storage.migrate import upgrade_to_head
from tests.support.case_data import add_case, add_person
from tests.support.cli import operator_environment, without_database_line
from tests.support.databases import create_postgres_database, drop_postgres_database, empty_all_tables
from tests.support.harness import TEST_AUDIT_KEY

KEY = new_key()
TEXTS = [
    "sucht Arbeit in der Pflege",
    "B1-Kurs abschließen",
    "Anmeldung bei der Kita",
    "Termin beim Jobcenter",
]


async def populate(url: str) -> None:
    """Staff, a person, a case with encrypted texts written through the case store (audited)."""
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
        if engine.dialect.name == "postgresql":
            await empty_all_tables(engine)
        cipher = CaseCipher([KEY])
        now = datetime(2026, 3, 2, 10, tzinfo=UTC)
        sessions = audit.use_keys(create_session_factory(engine), [TEST_AUDIT_KEY])
        async with session_scope(sessions) as session:
            advisor = await add_person(session, 9001, "Anna Berger")
            person = await add_person(session, 9002)
            case = await add_case(session, person)
            staff = await cases.staff_member(session, advisor.id)
            await cases.take_case(session, staff, case.id, now)
            await cases.record_consent_in_person(session, staff, case.id, "case", "de", now)
            await cases.set_need(session, cipher, staff, case.id, "work", "need", TEXTS[0], now)
            await cases.add_goal(
                session,
                cipher,
                staff,
                case.id,
                area="language",
                goal=TEXTS[1],
                steps=TEXTS[2],
                due_on=None,
                now=now,
            )
            await cases.add_note(session, cipher, staff, case.id, TEXTS[3], now)
    finally:
        await engine.dispose()


async def case_texts(url: str) -> list[str]:
    """Every stored case text, decrypted."""
    cipher = CaseCipher([KEY])
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            texts = []
            for column in ENCRYPTED_COLUMNS:
                texts += [cipher.decrypt(token) for token in await session.scalars(select(column)) if token]
            return sorted(text for text in texts if text)
    finally:
        await engine.dispose()


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> object:
    """An empty database of the same engine as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'wegweiser.sqlite3'}"
        return
    name, url = create_postgres_database()
    yield url
    drop_postgres_database(name)


def test_a_backup_restores_into_a_fresh_database_with_every_case_text_readable(
    database_url: str,
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    operator_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", KEY)
    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", TEST_AUDIT_KEY)
    asyncio.run(populate(database_url))
    backup_file = tmp_path / "wegweiser.backup"

    monkeypatch.setenv("WEGWEISER_DATABASE_URL", database_url)
    assert main(["backup", str(backup_file)]) == 0
    assert main(["backup", str(backup_file)]) == 1, "an existing file is never overwritten"
    monkeypatch.setenv("WEGWEISER_DATABASE_URL", fresh_database)
    assert main(["restore", str(backup_file)]) == 0
    capsys.readouterr()

    assert main(["audit", "check"]) == 0
    assert "intact" in capsys.readouterr().out.lower()
    assert asyncio.run(case_texts(fresh_database)) == sorted(TEXTS)
    assert asyncio.run(case_texts(database_url)) == sorted(TEXTS)

    assert main(["restore", str(backup_file)]) == 1
    assert "not empty" in without_database_line(capsys.readouterr().err)
