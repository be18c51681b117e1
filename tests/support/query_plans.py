"""SQLite query plans for tests: a migrated database, the statements a piece of code sends, and
what ``EXPLAIN QUERY PLAN`` says about each. SQLite plans without statistics (nobody runs
``ANALYZE``), so a plan depends on the schema and the statement only: an empty database shows the
plan production gets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade_to_head


@dataclass(frozen=True)
class Sent:
    sql: str
    parameters: Sequence[Any]


@contextlib.asynccontextmanager
async def sqlite_at_head(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite database migrated to head."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'plans.sqlite3'}")
    await upgrade_to_head(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@contextlib.contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[Sent]]:
    """Every statement SQLAlchemy sends through ``engine`` meanwhile, with its parameters."""
    sent: list[Sent] = []

    def note(_conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append(Sent(sql, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def the_one(sent: Sequence[Sent], *starts: str) -> Sent:
    """The one statement sent whose text starts with ``starts`` (words, spaces as they come)."""
    prefix = " ".join(starts)
    found = [statement for statement in sent if " ".join(statement.sql.split()).startswith(prefix)]
    assert len(found) == 1, [statement.sql for statement in sent]
    return found[0]


async def plan_of(engine: AsyncEngine, sql: str, parameters: Sequence[Any] = ()) -> list[str]:
    """The steps of ``EXPLAIN QUERY PLAN`` for the statement (unbound parameters as NULL)."""
    if not parameters:
        parameters = (None,) * sql.count("?")
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(parameters))
        return [row[3] for row in rows]
