"""Which of the two databases a session talks to, and the SQL constructs that differ between SQLite
and PostgreSQL, loaded for the database in use only.

SQLAlchemy's PostgreSQL dialect brings the modules of all its drivers with it: importing it takes
about 60 ms on a small machine, a twentieth of the bot's start-up, which a bot on SQLite need not
pay (nor one on PostgreSQL for SQLite's, a smaller sum). Modules that build such statements once
and keep them build them on first use, per dialect (``functools.cache``), through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    UpsertInsert = PostgresqlInsert | SqliteInsert

POSTGRESQL = "postgresql"
# Where a statement can run: in a session's unit of work, or alone through an engine's pooled
# connection or a connection the caller holds.
Target = AsyncSession | AsyncEngine | AsyncConnection


def dialect_name(target: Target) -> str:
    """``postgresql`` or ``sqlite``: which of the two databases the session, engine or connection
    talks to."""
    bind = target.bind if isinstance(target, AsyncSession) else target
    return POSTGRESQL if bind is not None and bind.dialect.name == POSTGRESQL else "sqlite"


def ids_value(dialect: str, ids: Sequence[int]) -> list[int] | str:
    """Ids bound as one value, so that a statement has one text for any number of them: a list for
    an array on PostgreSQL, a JSON array for ``json_each`` on SQLite."""
    return list(ids) if dialect == POSTGRESQL else json.dumps(list(ids))


def upsert_insert(dialect: str) -> Callable[..., UpsertInsert]:
    """The dialect's ``insert``, which has ``on_conflict_do_nothing`` and ``on_conflict_do_update``."""
    if dialect == POSTGRESQL:
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def postgresql_array(item_type: type[TypeEngine[Any]] | TypeEngine[Any]) -> TypeEngine[Any]:
    """PostgreSQL's ``ARRAY`` of ``item_type``, for binding a list of values as one parameter."""
    from sqlalchemy.dialects.postgresql import ARRAY

    return ARRAY(item_type)
