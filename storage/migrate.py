"""Run the Alembic migrations programmatically: the app upgrades on start, the CLI on request.

When the database is already at the newest revision (every start but the first after an update),
that is found out with one query and the revision files' text, without loading Alembic at all.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
# The key of the PostgreSQL advisory lock that lets one starting instance migrate at a time.
MIGRATION_LOCK = 0x5765_6777


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for our migrations, on a connection when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    """The newest revision(s): those no other revision names as its parent (read from the files)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (parents if name == "down_revision" else revisions).update(_QUOTED.findall(value))
    return revisions - parents


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """The revision(s) the database is at (none for a new database)."""
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except DBAPIError:
        return set()


async def upgrade_to_head(engine: AsyncEngine) -> bool:
    """Bring the schema to the newest revision (a no-op when it already is). On PostgreSQL the
    migration holds an advisory lock until it commits, so instances starting together migrate one
    after the other: the first upgrades, the others find the schema at head and do nothing.
    Returns whether anything was migrated."""
    if await current_revisions(engine) == head_revisions():
        return False
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before, after = await connection.run_sync(_upgrade)
    if before != after:
        log.info("migrated the database from %s to %s", before or "empty", after)
    return before != after


def _upgrade(connection: Connection) -> tuple[str | None, str | None]:
    """Upgrade to head; the revisions before and after."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(alembic_config(connection), "head")
    return before, MigrationContext.configure(connection).get_current_revision()


async def downgrade_to_base(engine: AsyncEngine) -> None:
    """Undo every migration (used by the migration tests)."""
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
