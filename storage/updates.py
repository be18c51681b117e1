"""Idempotent update handling: each Telegram update id is handled once, even if delivered twice.

With long polling one process fetches updates and the gate claims each id as it starts handling it.
In webhook mode this table is also the inbox shared by every instance:

1. the webhook route *records* the update (id, person, JSON) and commits before Telegram gets its 200,
   so an acknowledged update can no longer be lost with a process;
2. the instance that received it waits for the person's *turn* (no earlier update of the same person
   still waiting or being handled anywhere), so one person's updates are handled in order even when
   they reach different instances;
3. the gate *claims* it (``handled_at``) exactly once, then the handlers run, and the turn ends;
4. an update recorded by an instance that died before starting it is *stranded*: any instance picks
   it up after a grace period and handles it.

A process killed while a handler runs leaves its update claimed: it is never handled a second time
(no double booking, no second message), and the person's turn lapses after ``TURN_LEASE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, String, bindparam, delete, exists, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from storage.db import insert_ignoring_conflicts
from storage.dialects import POSTGRESQL, dialect_name, ids_value, postgresql_array, upsert_insert
from storage.driver_calls import send_alone
from storage.models import ProcessedUpdate

if TYPE_CHECKING:
    from storage.dialects import UpsertInsert

KEEP_PROCESSED_FOR = timedelta(days=2)
TURN_LEASE = timedelta(seconds=20)


class Turn(StrEnum):
    """Whether an instance may handle a recorded update now."""

    TAKEN = "taken"  # this instance handles it now; end the turn afterwards
    DONE = "done"  # it was handled already (a redelivery, or another instance got there first)
    WAIT = "wait"  # an earlier update of the same person is not finished yet


async def record_update(
    session: AsyncSession, update_id: int, person_key: int | None, payload: str, now: datetime
) -> bool:
    """Keep a webhook update before Telegram is told it arrived; ``False`` when it was recorded before
    (a redelivery), in which case it must not be handled again here."""
    result = await session.execute(
        insert_ignoring_conflicts(session, ProcessedUpdate, ["update_id"]).values(
            update_id=update_id, processed_at=now, payload=payload, person_key=person_key
        )
    )
    return bool(result.rowcount)


def claim_statement(
    insert: Callable[[type[ProcessedUpdate]], UpsertInsert], update_id: int, now: datetime
) -> UpsertInsert:
    """The statement that claims an update (affects a row only when it was not claimed before): a
    recorded webhook update gets its ``handled_at``; a polled one is inserted already claimed. For
    statements that claim and do more at once (the gate's ``storage.admission``)."""
    return (
        insert(ProcessedUpdate)
        .values(update_id=update_id, processed_at=now, handled_at=now)
        .on_conflict_do_update(
            index_elements=["update_id"],
            set_={"handled_at": now},
            where=ProcessedUpdate.handled_at.is_(None),
        )
    )


async def claim_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Mark the update as being handled; ``False`` when it was claimed before."""
    return update_id in await claim_updates(session, [update_id], now)


async def claim_updates(session: AsyncSession, update_ids: Sequence[int], now: datetime) -> set[int]:
    """Claim several updates in one statement; the ids claimed now, i.e. without those claimed
    before. The statement's text is the same for any number of ids (they travel as one array), so it
    is compiled once and costs about what a single claim costs."""
    if not update_ids:
        return set()
    unique = list(dict.fromkeys(update_ids))  # PostgreSQL refuses to touch one row twice in a statement
    connection = await session.connection()
    dialect = dialect_name(connection)
    result = await connection.execute(_claim_array(dialect), {"ids": ids_value(dialect, unique), "now": now})
    return set(result.scalars().all())


@cache
def _claim_array(dialect: str) -> Any:
    """The claim of several updates on ``dialect``, the ids as one array value (built once per
    dialect, so compiled once)."""
    if dialect == POSTGRESQL:
        ids = func.unnest(bindparam("ids", type_=postgresql_array(BigInteger)))
    else:
        ids = func.json_each(bindparam("ids", type_=String)).table_valued("value").c.value
    table = ProcessedUpdate.__table__
    now = bindparam("now", type_=table.c.handled_at.type)
    # SQLite needs the WHERE to tell the SELECT's end from the ON CONFLICT clause.
    rows = select(ids, now, now).where(true())
    statement = upsert_insert(dialect)(table).from_select(["update_id", "processed_at", "handled_at"], rows)
    return statement.on_conflict_do_update(
        index_elements=["update_id"],
        set_={"handled_at": statement.excluded.handled_at},
        where=table.c.handled_at.is_(None),
    ).returning(table.c.update_id)


async def claim_updates_alone(
    through: AsyncEngine | AsyncConnection, update_ids: Sequence[int], now: datetime
) -> set[int]:
    """What :func:`claim_updates` does, as one statement outside any transaction, straight through
    the driver of a pooled connection or of one the caller keeps (``storage.driver_calls``): one
    round trip instead of a session's ``BEGIN``, statement, fetch and ``COMMIT``. The statement is
    atomic on its own. On SQLite the caller holds the write turn (``storage.db.write_turn``)."""
    if not update_ids:
        return set()
    unique = list(dict.fromkeys(update_ids))
    dialect = dialect_name(through)
    rows = await send_alone(through, _claim_array(dialect), {"ids": ids_value(dialect, unique), "now": now})
    return {row[0] for row in rows}


async def take_turn(
    session: AsyncSession,
    update_id: int,
    person_key: int | None,
    now: datetime,
    lease: timedelta = TURN_LEASE,
) -> Turn:
    """Let this instance handle a recorded update if it is the person's turn: nobody handles it yet
    and no earlier update of the same person is waiting or being handled (a turn held by a process
    that died lapses after ``lease``). One conditional UPDATE, so two instances never both win."""
    earlier = aliased(ProcessedUpdate)
    earlier_unfinished = (
        exists()
        .where(earlier.person_key == person_key, earlier.update_id < update_id)
        .where(or_(earlier.handled_at.is_(None), earlier.busy_until > now))
    )
    result = await session.execute(
        update(ProcessedUpdate)
        .where(
            ProcessedUpdate.update_id == update_id,
            ProcessedUpdate.handled_at.is_(None),
            or_(ProcessedUpdate.busy_until.is_(None), ProcessedUpdate.busy_until <= now),
            ~earlier_unfinished,
        )
        .values(busy_until=now + lease)
    )
    if result.rowcount:
        return Turn.TAKEN
    handled_at = await session.scalar(
        select(ProcessedUpdate.handled_at).where(ProcessedUpdate.update_id == update_id)
    )
    return Turn.DONE if handled_at is not None else Turn.WAIT


async def end_turn(session: AsyncSession, update_id: int) -> None:
    """The update is finished: the person's next update may be handled."""
    await session.execute(
        update(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id).values(busy_until=None)
    )


async def take_stranded(
    session: AsyncSession, now: datetime, grace: timedelta, limit: int = 50
) -> Sequence[str]:
    """The JSON of recorded updates nobody started within ``grace`` (their instance died before it
    got to them). Taking them moves their ``processed_at`` to now, so other instances leave them
    alone for another ``grace``; ``SKIP LOCKED`` keeps two sweeps apart on PostgreSQL."""
    stranded = (
        select(ProcessedUpdate.update_id, ProcessedUpdate.payload)
        .where(
            ProcessedUpdate.payload.is_not(None),
            ProcessedUpdate.handled_at.is_(None),
            ProcessedUpdate.processed_at < now - grace,
            or_(ProcessedUpdate.busy_until.is_(None), ProcessedUpdate.busy_until <= now),
        )
        .order_by(ProcessedUpdate.update_id)
        .limit(limit)
    )
    if dialect_name(session) == POSTGRESQL:
        stranded = stranded.with_for_update(skip_locked=True)
    rows = (await session.execute(stranded)).all()
    if rows:
        await session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id.in_([row.update_id for row in rows]))
            .values(processed_at=now)
        )
    return [row.payload for row in rows if row.payload is not None]


async def forget_old_updates(session: AsyncSession, now: datetime) -> int:
    """Drop handled update ids older than Telegram would ever redeliver; returns how many went."""
    result = await session.execute(
        delete(ProcessedUpdate).where(
            ProcessedUpdate.processed_at < now - KEEP_PROCESSED_FOR, ProcessedUpdate.handled_at.is_not(None)
        )
    )
    return int(result.rowcount or 0)
