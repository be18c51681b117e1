"""Engine and session factory for SQLite and PostgreSQL, and the unit of work (``session_scope``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and write-serialising transactions."""
    if url.startswith("sqlite"):
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps;
        # one pooled connection queues them in FIFO order in-process instead, which is faster.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 30)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and upgrades read locks to write locks
    # late, which fails at once under concurrency. BEGIN IMMEDIATE takes the write lock up
    # front and waits (busy timeout) instead: one writer at a time, never a lost update.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions on the engine whose objects stay readable after a commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


class NestedUnitOfWork(RuntimeError):
    """A unit of work was opened inside another one in the same task; on SQLite's single pooled
    connection that would wait for itself, so it is refused at once instead."""


_in_unit_of_work: ContextVar[bool] = ContextVar("in_unit_of_work", default=False)
_AFTER_COMMIT = "wegweiser.after_commit"


def after_commit(session: AsyncSession, follow_up: Callable[[AsyncEngine], Awaitable[None]]) -> None:
    """Run ``follow_up`` with the engine once this unit of work has committed, outside any
    transaction (housekeeping such as a checkpoint); it is skipped when the unit of work fails."""
    pending = session.info.setdefault(_AFTER_COMMIT, [])
    if follow_up not in pending:
        pending.append(follow_up)


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    if _in_unit_of_work.get():
        raise NestedUnitOfWork("finish the open unit of work before starting another")
    token = _in_unit_of_work.set(True)
    try:
        async with factory() as session:
            try:
                yield session
                await session.commit()
                for follow_up in session.info.pop(_AFTER_COMMIT, ()):
                    await follow_up(session.bind)
            except BaseException:
                await session.rollback()
                raise
    finally:
        _in_unit_of_work.reset(token)


def insert_ignoring_conflicts(session: AsyncSession, table: Any, index_elements: list[str]) -> Any:
    """An INSERT that silently skips rows violating the given unique key, on either dialect."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)
