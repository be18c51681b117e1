"""Shared fixtures: databases on SQLite and PostgreSQL, and the bot running against the sandbox."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.sandbox import Sandbox, new_world, serve
from storage import audit, claim_batches
from storage.db import SessionFactory, create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    empty_all_tables,
    postgres_available,
)
from tests.support.harness import TEST_AUDIT_KEY, BotUnderTest, Clock, settings_for


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL database for the whole test session (tables are emptied between tests)."""
    reason = postgres_available()
    if reason is not None:
        pytest.skip(reason)
    name, url = create_postgres_database()
    yield url
    drop_postgres_database(name)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated to head for the whole test session. Each test that needs a
    SQLite database starts from a copy: running every migration again took ~0.3 s a test. The bot
    and the fixtures still run ``upgrade_to_head`` on the copy, which finds it at head."""
    path = tmp_path_factory.mktemp("migrated") / "head.sqlite3"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()  # the last connection's close folds the WAL into the file

    asyncio.run(migrate())
    return path


def sqlite_copy(migrated: Path, path: Path) -> str:
    """The URL of a new SQLite database at ``path``, a copy of the migrated one."""
    shutil.copyfile(migrated, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("migrated_sqlite"), tmp_path / "test.sqlite3")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    if engine.dialect.name == "postgresql":
        await empty_all_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[SessionFactory]:
    factory = audit.use_keys(create_session_factory(engine), [TEST_AUDIT_KEY])
    yield factory
    await claim_batches.close(factory)  # what the gate's claims keep on PostgreSQL


@pytest.fixture
async def bot(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path
) -> AsyncIterator[BotUnderTest]:
    """The real Application polling the sandbox over HTTP, with a SQLite database and a fixed clock.
    A test marked ``unlimited_rate`` runs it without Telegram's rate limiter (for bulk sending).

    When the test ends, the sandbox must not have refused anything the bot sent: Telegram would
    have refused it too."""
    world = new_world()
    running = await serve(Sandbox({world.token: world}))
    settings = settings_for(
        sqlite_copy(migrated_sqlite, tmp_path / "bot.sqlite3"), running.api_url, world.token, str(tmp_path)
    )
    unlimited = request.node.get_closest_marker("unlimited_rate") is not None
    under_test = BotUnderTest(running, world, settings, Clock(), rate_limited=not unlimited)
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.close()
        await running.stop()
    # "Not modified" is the one refusal the bot provokes on purpose: a double tap shows the same
    # screen again, and the bot treats the answer as done.
    refused = [(method, why) for method, why in world.refusals if "message is not modified" not in why]
    assert refused == [], f"the Bot API refused what the bot sent: {refused}"
