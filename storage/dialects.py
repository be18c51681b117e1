"""The SQL constructs that differ between SQLite and PostgreSQL, loaded for the database in use only.

SQLAlchemy's PostgreSQL dialect brings the modules of all its drivers with it: importing it takes
about 60 ms on a small machine, a twentieth of the bot's start-up, which a bot on SQLite need not
pay (nor one on PostgreSQL for SQLite's, a smaller sum). Modules that build such statements once
and keep them build them on first use, per dialect (``functools.cache``), through these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    UpsertInsert = PostgresqlInsert | SqliteInsert

POSTGRESQL = "postgresql"


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
