"""Run the Alembic migrations programmatically: the app upgrades on start, the CLI on request."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The key of the PostgreSQL advisory lock that lets one starting instance migrate at a time.
MIGRATION_LOCK = 0x5765_6777


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for our migrations, on a connection when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade_to_head(engine: AsyncEngine) -> bool:
    """Bring the schema to the newest revision (a no-op when it already is). On PostgreSQL the
    migration holds an advisory lock until it commits, so instances starting together migrate one
    after the other: the first upgrades, the others find the schema at head and do nothing.
    Returns whether anything was migrated."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before, after = await connection.run_sync(_upgrade)
    if before != after:
        log.info("migrated the database from %s to %s", before or "empty", after)
    return before != after


def _upgrade(connection: Connection) -> tuple[str | None, str | None]:
    """Upgrade to head; the revisions before and after."""
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(alembic_config(connection), "head")
    return before, MigrationContext.configure(connection).get_current_revision()


async def downgrade_to_base(engine: AsyncEngine) -> None:
    """Undo every migration (used by the migration tests)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
