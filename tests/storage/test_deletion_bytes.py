"""Deleting everything leaves no bytes behind on SQLite: neither the database file nor its
write-ahead log holds the person's first name afterwards (secure_delete zeroes the rows, and a
checkpoint after the deletion empties the log, whose older frames still held them)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage import audit, privacy
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from tests.storage.test_privacy import FIRST_NAME, NOW, PERSON_ID, tell_a_story
from tests.support.harness import TEST_AUDIT_KEY


def files_holding(path: Path, needle: bytes) -> list[str]:
    """The database's files (the database, its write-ahead log) that contain ``needle``."""
    candidates = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return [
        candidate.name for candidate in candidates if candidate.exists() and needle in candidate.read_bytes()
    ]


async def test_after_deleting_everything_no_file_holds_the_first_name(tmp_path: Path) -> None:
    database = tmp_path / "wegweiser.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade_to_head(engine)
        sessions = audit.use_keys(create_session_factory(engine), [TEST_AUDIT_KEY])
        async with sessions() as session:  # set explicitly: not every SQLite build defaults to it
            assert await session.scalar(text("PRAGMA secure_delete")) == 1
        await tell_a_story(sessions)
        assert files_holding(database, FIRST_NAME.encode()), "the scan finds the name before"

        async with session_scope(sessions) as session:
            await privacy.delete_everything(session, PERSON_ID, NOW)

        assert files_holding(database, FIRST_NAME.encode()) == []
        async with sessions() as session:  # the database is still in use afterwards
            assert (await audit.verify_chain(session)).intact
    finally:
        await engine.dispose()
