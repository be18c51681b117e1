"""Update claims gathered into shared transactions (a group commit), so the gate's one write per
update does not make everyone queue for the database under load.

Each update id must be claimed before it is handled (``storage.updates``). Alone, a claim is a
write transaction of its own; on SQLite writers take turns, so with many people at once every
update waited for the claims of all updates before it. Here a claim joins the next transaction
instead: while one batch is being written, the ids that arrive meanwhile wait and are claimed
together in the following one. A batch is one statement; with aiosqlite or asyncpg it is sent
straight through the driver outside any transaction (``storage.updates.claim_updates_alone``: one
round trip, atomic on its own). A lone claim costs one round trip and waits for nothing else;
twenty claims arriving together cost about two.

On PostgreSQL every checkout from the pool pings the server first. For a claim of one statement
that doubled its round trips, so the batcher keeps its connection while claims keep coming. One
unused for :data:`FRESH_FOR` may have been closed by the server meanwhile: it goes back to the
pool, and the next claim takes one the pool has pinged. One the driver already knows to be closed
(the server restarted, or ended the session) is replaced before the claim is sent, so nobody's
update fails for it. After a failure while a claim was under way the connection is given up, and
that batch fails: whether the server committed it before the connection broke cannot be known,
and claiming again could refuse an update that was never handled. ``close`` hands it back when
the bot stops.

The answer is the same as one claim's: ``True`` once the claim has committed, ``False`` when the
id was claimed before, and the database's error when the batch's transaction failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import updates
from storage.db import SessionFactory, session_scope, write_turn
from storage.driver_calls import direct_engine

MAX_BATCH = 500  # ids per statement, well inside every database's limit of bound parameters
# A kept PostgreSQL connection unused for longer than this is not trusted without the pool's ping.
FRESH_FOR = 5.0


class ClaimBatcher:
    """Claims update ids for one database, batching those that arrive while a batch is written."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._waiting: list[tuple[int, datetime, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._kept: AsyncConnection | None = None  # PostgreSQL only
        self._kept_driver: Any = None  # asyncpg's connection inside it
        self._last_used = 0.0

    async def claim(self, update_id: int, now: datetime) -> bool:
        """Claim the update; ``False`` when it was claimed before."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((update_id, now, answer))
        if self._writer is None or self._writer.done():
            # A context of its own: the writer outlives the update that started it, and must not
            # count as that update's unit of work (``storage.db``).
            self._writer = asyncio.create_task(self._write_all(), context=contextvars.Context())
        return await answer

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            ids, now = [update_id for update_id, _, _ in batch], max(now for _, now, _ in batch)
            try:
                claimed = await self._claim(ids, now)
            except asyncio.CancelledError:
                for *_, answer in (*batch, *self._waiting):
                    answer.cancel()
                self._waiting = []
                raise
            except Exception as error:
                for *_, answer in batch:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            for update_id, _, answer in batch:
                if not answer.done():  # the update's task may have been cancelled meanwhile
                    answer.set_result(update_id in claimed)
                    claimed.discard(update_id)  # the same id twice in a batch: only the first

    async def _claim(self, ids: list[int], now: datetime) -> set[int]:
        engine = direct_engine(self._sessions)
        if engine is not None and engine.dialect.name == "postgresql":
            connection = await self._connection(engine)
            try:
                return await updates.claim_updates_alone(connection, ids, now)
            except Exception:
                await self._give_up(connection)
                raise
        if engine is not None:
            async with write_turn(engine):
                return await updates.claim_updates_alone(engine, ids, now)
        async with session_scope(self._sessions) as session:
            return await updates.claim_updates(session, ids, now)

    async def _connection(self, engine: AsyncEngine) -> AsyncConnection:
        """The kept connection while it is fresh and open, else one the pool has just pinged."""
        now = time.monotonic()
        if self._kept is not None and self._kept_driver is not None and self._kept_driver.is_closed():
            await self._give_up(self._kept)
        elif self._kept is not None and now - self._last_used > FRESH_FOR:
            await self._hand_back()
        if self._kept is None:
            self._kept = await engine.connect()
            self._kept_driver = (await self._kept.get_raw_connection()).driver_connection
        self._last_used = now
        return self._kept

    async def _give_up(self, connection: AsyncConnection) -> None:
        if self._kept is connection:
            self._kept = self._kept_driver = None
        with contextlib.suppress(Exception):  # it may be the broken part
            await connection.invalidate()
            await connection.close()

    async def close(self) -> None:
        """Let the claims under way finish, then hand the kept connection back to the pool."""
        if self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])
        await self._hand_back()

    async def _hand_back(self) -> None:
        kept, self._kept, self._kept_driver = self._kept, None, None
        if kept is not None:
            with contextlib.suppress(Exception):  # one the server closed is gone anyway
                await kept.close()


_batchers: weakref.WeakKeyDictionary[SessionFactory, ClaimBatcher] = weakref.WeakKeyDictionary()


def batcher_for(sessions: SessionFactory) -> ClaimBatcher:
    """The claim batcher of this session factory's database."""
    batcher = _batchers.get(sessions)
    if batcher is None:
        batcher = _batchers[sessions] = ClaimBatcher(sessions)
    return batcher


async def claim(sessions: SessionFactory, update_id: int, now: datetime) -> bool:
    """Claim the update in the next batch; ``False`` when it was claimed before."""
    return await batcher_for(sessions).claim(update_id, now)


async def close(sessions: SessionFactory) -> None:
    """Hand back what the batcher of this database keeps (before its engine is disposed)."""
    batcher = _batchers.get(sessions)
    if batcher is not None:
        await batcher.close()
