"""Single Core statements sent straight through a pooled connection's driver, outside any session.

A statement that is atomic on its own (one ``UPDATE … FROM`` over an array of ids, one
``INSERT … ON CONFLICT … RETURNING``) needs no ``BEGIN`` and ``COMMIT`` around it. Sent through a
session it costs the begin, the statement, the fetch and the commit, each a trip to aiosqlite's
thread (about eight) or a round trip to PostgreSQL. Sent here it is one: the statement is compiled
once per dialect into the driver's own text and parameter order, and values are converted both
ways as SQLAlchemy would convert them. Both databases' connections run in autocommit at the driver
level (``storage.db`` sets pysqlite's ``isolation_level`` to ``None``; asyncpg commits each
statement outside a transaction), so the statement is its own transaction.

On SQLite the caller holds the write turn (``storage.db.write_turn``) for a statement that writes.
On PostgreSQL each checkout from the pool pings the server first (``pool_pre_ping``): work that
sends many statements in a row keeps a connection for its duration and sends them through it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.selectable import ReturnsRows

from storage.db import SessionFactory, engine_of
from storage.dialects import Target

_DRIVERS = {("sqlite", "aiosqlite"), ("postgresql", "asyncpg")}


def sends_alone(engine: AsyncEngine) -> bool:
    """Whether :func:`send_alone` can send statements straight through this engine's driver."""
    return (engine.dialect.name, engine.dialect.driver) in _DRIVERS


def direct_engine(factory: SessionFactory) -> AsyncEngine | None:
    """The engine of the factory's sessions when statements can be sent straight through its driver;
    ``None`` when they cannot (then they go in a unit of work)."""
    engine = engine_of(factory)
    return engine if engine is not None and sends_alone(engine) else None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...]  # the parameters' names in the driver's positional order
    fixed: Mapping[str, Any]  # values the statement itself carries (literals), converted
    converters: Mapping[str, Callable[[Any], Any] | None]
    # How each returned column's value is read back, as a Result would (None: as it comes).
    readers: tuple[Callable[[Any], Any] | None, ...]


_compiled: dict[tuple[int, str], tuple[ClauseElement, _Compiled]] = {}


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    key = (id(statement), dialect.name)
    known = _compiled.get(key)
    if known is not None and known[0] is statement:
        return known[1]
    done = statement.compile(dialect=dialect)
    order = tuple(done.positiontup or ())
    converters = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in done.binds.items()
    }
    fixed = {}
    for name, bind in done.binds.items():
        if bind.value is not None or not bind.required:
            convert = converters[name]
            fixed[name] = convert(bind.effective_value) if convert else bind.effective_value
    returned = statement.exported_columns if isinstance(statement, ReturnsRows) else ()
    readers = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned)
    result = _Compiled(str(done), order, fixed, converters, readers if any(readers) else ())
    _compiled[key] = (statement, result)  # the statement is kept, so its id is never reused
    return result


async def send_alone(
    through: AsyncEngine | AsyncConnection, statement: ClauseElement, values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """Run ``statement`` with ``values`` (by bind parameter name, before conversion) as one driver
    call on a pooled connection, or on a connection the caller holds (outside any transaction of
    its own); the rows it returns (none for a statement without ``RETURNING``). Only for statements
    built once (module constants): each is compiled once per dialect."""
    dialect = through.dialect
    compiled = _compile(statement, dialect)
    arguments = []
    for name in compiled.order:
        if name in values:
            convert = compiled.converters[name]
            arguments.append(convert(values[name]) if convert else values[name])
        else:
            arguments.append(compiled.fixed[name])
    async with contextlib.AsyncExitStack() as stack:
        connection = through
        if isinstance(connection, AsyncEngine):
            connection = await stack.enter_async_context(connection.connect())
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if dialect.name == "sqlite":
            rows = await driver.execute_fetchall(compiled.sql, arguments)
        else:
            rows = await driver.fetch(compiled.sql, *arguments)
    if not compiled.readers:
        return rows
    readers = compiled.readers
    return [
        tuple(read(value) if read is not None else value for read, value in zip(readers, row, strict=True))
        for row in rows
    ]


@contextlib.asynccontextmanager
async def kept_for_a_run(engine: AsyncEngine) -> AsyncIterator[AsyncEngine | AsyncConnection]:
    """What to send a run of statements through: on PostgreSQL a pooled connection kept until the
    run ends, so that each statement is one round trip and not a ping, the statement and a reset;
    elsewhere the engine itself (a checkout from SQLite's pool costs nothing)."""
    if engine.dialect.name != "postgresql":
        yield engine
        return
    async with engine.connect() as connection:
        yield connection


async def execute(
    target: Target, statement: ClauseElement, values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """Run ``statement`` in the session's unit of work, or alone through the driver of the engine
    or held connection (:func:`send_alone`); the rows it returns either way."""
    if isinstance(target, AsyncSession):
        result = await target.execute(statement, values)
        return result.all() if result.returns_rows else []
    return await send_alone(target, statement, values)
