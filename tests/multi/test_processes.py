"""What several processes share on one PostgreSQL database: three processes starting at once migrate
it once, and reminders claimed by three processes at once are each claimed by exactly one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.sandbox import new_world
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import MIGRATIONS_DIR
from storage.models import Reminder, ReminderStatus
from tests.support.cluster import ROOT, seed_consultations
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_available


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own (not even migrated)."""
    reason = postgres_available()
    if reason is not None:
        pytest.skip(reason)
    name, url = create_postgres_database()
    yield url
    drop_postgres_database(name)


def python_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEGWEISER_")}
    env.update(
        {"PYTHONPATH": str(ROOT), "WEGWEISER_DATABASE_URL": database_url, "WEGWEISER_LOG_LEVEL": "INFO"}
    )
    return env


def test_three_processes_starting_at_once_migrate_the_database_once(
    fresh_database: str, tmp_path: Path
) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"],
            env=python_env(fresh_database),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    logs = "".join(stderr for _stdout, stderr in outputs)
    assert logs.count("migrated the database from empty to") == 1, logs
    revisions = len(list((MIGRATIONS_DIR / "versions").glob("*.py")))
    assert revisions > 1


async def test_reminders_claimed_by_three_processes_at_once_are_each_claimed_once(
    fresh_database: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    await seed_consultations(
        fresh_database,
        new_world(),
        ZoneInfo("Europe/Berlin"),
        now,
        advisors=range(9001, 9005),
        reminded=range(20001, 20041),
    )
    engine = create_engine(fresh_database)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            await session.execute(
                update(Reminder).values(status=ReminderStatus.PENDING, due_at=now - timedelta(minutes=1))
            )
            due = int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)
    finally:
        await engine.dispose()

    start_at = str(datetime.now(UTC).timestamp() + 10)  # all three begin together, once imported
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.multi.claim_worker", fresh_database, now.isoformat(), start_at],
            env=python_env(fresh_database),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    claimed = [json.loads(stdout) for stdout, _stderr in outputs]
    every_claim = [reminder_id for ids in claimed for reminder_id in ids]
    assert len(every_claim) == len(set(every_claim)) == due
    assert sum(1 for ids in claimed if ids) >= 2, "the processes claimed side by side"
