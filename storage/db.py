"""Engine and session factory for SQLite and PostgreSQL, and the units of work: ``session_scope``
for a step that may write, ``read_scope`` for one that only reads.

On SQLite one write transaction runs at a time: ``session_scope`` waits its turn on an in-process
lock (first come, first served) and then takes the write lock with ``BEGIN IMMEDIATE``, while
``read_scope`` reads a consistent snapshot on another pooled connection with a plain ``BEGIN``
(WAL lets readers and the writer pass each other). PostgreSQL needs neither.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session

from storage.dialects import dialect_name, upsert_insert

SessionFactory = async_sessionmaker[AsyncSession]
SQLITE_CONNECTIONS = 5  # one writer at a time, the others read
READ_ONLY = "wegweiser_read_only"

_write_turns: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()
_readers: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and write-serialising transactions."""
    if url.startswith("sqlite"):
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps;
        # writers queue in FIFO order in-process instead (see ``session_scope``), readers do not wait.
        kwargs.setdefault("pool_size", SQLITE_CONNECTIONS)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 30)
        # Sessions and connections end their transactions themselves; a rollback on every return
        # to the pool would cost one more trip to aiosqlite's thread per unit of work.
        kwargs.setdefault("pool_reset_on_return", None)
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
    # front and waits (busy timeout) instead: one writer at a time, never a lost update. Work that
    # only reads (``read_scope``) begins with a plain BEGIN and never takes the write lock.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut (not a crash
        # of the program) may lose the last commits, never corrupt the database (see README).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    _write_turns[engine.sync_engine] = asyncio.Lock()
    _readers[engine.sync_engine] = engine.execution_options(**{READ_ONLY: True})


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


class _Step:
    """Whether a unit of work of the current step has committed a change."""

    __slots__ = ("committed",)

    def __init__(self) -> None:
        self.committed = False


_step: ContextVar[_Step | None] = ContextVar("step", default=None)


def begin_step() -> None:
    """Start a step (e.g. one update's handler) in this task: from here on, remember whether a unit
    of work commits a change, so a failure can say truthfully whether anything was saved."""
    _step.set(_Step())


def step_committed() -> bool:
    """Whether a unit of work committed a change since :func:`begin_step` in this task."""
    step = _step.get()
    return step is not None and step.committed


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush_context: Any) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _base_engine(engine: AsyncEngine) -> Engine:
    """The engine the SQLite settings were registered for; an engine made from it with other
    execution options (the reading twin) is a proxy of it."""
    return getattr(engine.sync_engine, "_proxied", engine.sync_engine)


def reading_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine to read with outside any unit of work: on SQLite the twin whose transactions begin
    with a plain ``BEGIN`` (never the write lock); elsewhere the engine itself."""
    return _readers.get(_base_engine(engine), engine)


def engine_of(factory: SessionFactory) -> AsyncEngine | None:
    """The engine the factory's sessions are bound to (``None`` when they are not bound to one)."""
    bind = factory.kw.get("bind")
    return bind if isinstance(bind, AsyncEngine) else None


@asynccontextmanager
async def write_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """This process's turn to write, as :func:`session_scope` waits for it on SQLite (one writer at a
    time, in arrival order), for a statement sent outside any session; elsewhere nothing to wait for."""
    turn = _write_turns.get(_base_engine(engine))
    if turn is None:
        yield
        return
    async with turn:
        yield


def writes_take_turns(factory: SessionFactory) -> bool:
    """Whether units of work on this factory write one at a time (SQLite), so running two at once
    gains nothing."""
    engine = engine_of(factory)
    return engine is not None and engine.sync_engine in _write_turns


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block succeeds, roll back when it raises. On SQLite it
    waits for its turn to write first (one writer at a time, in arrival order)."""
    if _in_unit_of_work.get():
        raise NestedUnitOfWork("finish the open unit of work before starting another")
    token = _in_unit_of_work.set(True)
    engine = engine_of(factory)
    turn = _write_turns.get(engine.sync_engine) if engine is not None else None
    try:
        if turn is not None:
            await turn.acquire()
        try:
            async with factory() as session:
                try:
                    yield session
                    await session.commit()
                    if session.info.get("wrote") and (step := _step.get()) is not None:
                        step.committed = True
                    for follow_up in session.info.pop(_AFTER_COMMIT, ()):
                        await follow_up(session.bind)
                except BaseException:
                    await session.rollback()
                    raise
        finally:
            if turn is not None:
                turn.release()
    finally:
        _in_unit_of_work.reset(token)


@asynccontextmanager
async def read_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """Work that only reads: a consistent snapshot that never waits for a writer (on SQLite a
    plain ``BEGIN`` on a reading connection). Nothing written in it is kept; what it loaded stays
    readable afterwards."""
    engine = engine_of(factory)
    reader = _readers.get(engine.sync_engine) if engine is not None else None
    async with factory(bind=reader) if reader is not None else factory() as session:
        try:
            yield session
        finally:
            session.expunge_all()
            await session.rollback()


def insert_ignoring_conflicts(session: AsyncSession, table: Any, index_elements: list[str]) -> Any:
    """An INSERT that silently skips rows violating the given unique key, on either dialect."""
    return upsert_insert(dialect_name(session))(table).on_conflict_do_nothing(index_elements=index_elements)
