"""Claims gathered into shared transactions: each update id is still claimed exactly once, a
redelivery is still refused, claims that arrive together share a transaction, and a failing
transaction reaches every claim that was in it. On PostgreSQL claims in a row keep one connection,
which is pinged again after a pause, replaced before a claim once the server has closed it, and
replaced after a failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from storage import claim_batches, updates
from storage.db import SessionFactory, engine_of, session_scope
from storage.dialects import dialect_name
from storage.models import ProcessedUpdate

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def count_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many claim statements (each its own transaction) the batcher sends, with how many ids."""
    writes: list[int] = []
    original = claim_batches.ClaimBatcher._claim

    async def counted(self: claim_batches.ClaimBatcher, ids: list[int], now: datetime) -> set[int]:
        writes.append(len(ids))
        return await original(self, ids, now)

    monkeypatch.setattr(claim_batches.ClaimBatcher, "_claim", counted)
    return writes


async def test_claims_arriving_together_share_a_transaction_and_each_id_is_claimed_once(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_writes(monkeypatch)
    ids = [*range(1, 61), *range(1, 11)]  # ten ids delivered twice, at the same time

    answers = await asyncio.gather(*(claim_batches.claim(sessions, update_id, NOW) for update_id in ids))

    assert answers == [True] * 60 + [False] * 10
    assert len(writes) <= 3 and sum(writes) == 70, f"{writes}: statements for 70 claims arriving together"
    async with session_scope(sessions) as session:
        stored = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
        unhandled = await session.scalar(
            select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.handled_at.is_(None))
        )
    assert (stored, unhandled) == (60, 0)


async def test_a_lone_claim_is_written_at_once_and_a_redelivery_refused(sessions: SessionFactory) -> None:
    assert await claim_batches.claim(sessions, 7, NOW)
    assert not await claim_batches.claim(sessions, 7, NOW)
    async with session_scope(sessions) as session:
        stored = await session.get(ProcessedUpdate, 7)
    assert stored is not None and (stored.processed_at, stored.handled_at) == (NOW, NOW)


async def test_claims_keep_coming_while_a_batch_is_written(sessions: SessionFactory) -> None:
    async def person(first_id: int) -> list[bool]:
        answers = []
        for step in range(5):
            answers.append(await claim_batches.claim(sessions, first_id + step, NOW))
            await asyncio.sleep(0)
        return answers

    results = await asyncio.gather(*(person(100 * number) for number in range(1, 21)))
    assert all(answers == [True] * 5 for answers in results)


async def test_a_failed_transaction_fails_every_claim_in_it_and_the_next_batch_works(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = {"left": 1}
    original = claim_batches.ClaimBatcher._claim

    async def failing_once(self: claim_batches.ClaimBatcher, ids: list[int], now: datetime) -> set[int]:
        if failures["left"]:
            failures["left"] -= 1
            await asyncio.sleep(0.01)  # long enough for the others to join this batch
            raise ConnectionError("database went away")
        return await original(self, ids, now)

    monkeypatch.setattr(claim_batches.ClaimBatcher, "_claim", failing_once)
    answers = await asyncio.gather(
        *(claim_batches.claim(sessions, update_id, NOW) for update_id in (1, 2, 3)), return_exceptions=True
    )
    assert [type(answer) for answer in answers] == [ConnectionError] * 3

    assert await claim_batches.claim(sessions, 1, NOW), "nothing of the failed batch was kept"


def pool_events(sessions: SessionFactory, name: str) -> list[int]:
    """Each event ``name`` of the pool of the sessions' engine from now on: "checkout" (on
    PostgreSQL each one pings first), "invalidate" (a connection thrown away)."""
    seen: list[int] = []
    engine = engine_of(sessions)
    assert engine is not None
    event.listen(engine.sync_engine.pool, name, lambda *_: seen.append(1))
    return seen


async def test_on_postgresql_claims_in_a_row_keep_one_connection_and_a_stale_one_is_replaced(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dialect_name(sessions()) != "postgresql":
        pytest.skip("SQLite's checkouts cost no round trip")
    checkouts = pool_events(sessions, "checkout")
    for update_id in range(1, 11):
        assert await claim_batches.claim(sessions, update_id, NOW)
    assert len(checkouts) == 1, "ten claims in a row, one checkout (and one ping)"

    monkeypatch.setattr(claim_batches, "FRESH_FOR", 0.0)  # as if it had lain unused for long
    assert await claim_batches.claim(sessions, 11, NOW)
    assert len(checkouts) == 2, "a connection unused for a while is pinged again"


async def backend_gone(sessions: SessionFactory, driver: Any) -> None:
    """Wait until the server process behind a terminated connection has ended, and the driver has
    read the connection's end."""
    backend = driver.get_server_pid()
    for _ in range(200):
        async with session_scope(sessions) as session:
            alive = await session.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
            )
        if not alive and driver.is_closed():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"server process {backend} still runs, or its driver has not noticed")


async def test_on_postgresql_a_kept_connection_the_server_closed_is_replaced_before_a_claim(
    sessions: SessionFactory,
) -> None:
    if dialect_name(sessions()) != "postgresql":
        pytest.skip("only PostgreSQL's claims keep a connection")
    checkouts = pool_events(sessions, "checkout")
    assert await claim_batches.claim(sessions, 1, NOW)
    kept = claim_batches.batcher_for(sessions)._kept
    assert kept is not None
    driver = (await kept.get_raw_connection()).driver_connection
    async with session_scope(sessions) as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": driver.get_server_pid()})
    await backend_gone(sessions, driver)
    before = len(checkouts)

    assert await claim_batches.claim(sessions, 2, NOW), "no error for anybody: a new connection claims"
    assert len(checkouts) == before + 1
    assert not await claim_batches.claim(sessions, 1, NOW), "and still refuses what was claimed before"


async def test_on_postgresql_a_claim_broken_under_way_fails_its_batch_and_the_connection_is_replaced(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dialect_name(sessions()) != "postgresql":
        pytest.skip("only PostgreSQL's claims keep a connection")
    import asyncpg

    checkouts = pool_events(sessions, "checkout")
    invalidated = pool_events(sessions, "invalidate")
    assert await claim_batches.claim(sessions, 1, NOW)
    original = updates.claim_updates_alone

    async def breaking_once(*args: Any) -> set[int]:
        monkeypatch.setattr(updates, "claim_updates_alone", original)
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(updates, "claim_updates_alone", breaking_once)
    # The server may have committed it before the connection broke: not claimed again blindly.
    with pytest.raises(asyncpg.ConnectionDoesNotExistError):
        await claim_batches.claim(sessions, 2, NOW)
    assert invalidated == [1], "the broken connection is thrown away, not handed back to the pool"

    assert await claim_batches.claim(sessions, 2, NOW), "the failed claim kept nothing; a new one works"
    assert len(checkouts) == 2
