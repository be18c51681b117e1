"""The webhook inbox: an update is recorded once, handled once, each person's in order, and one
recorded by an instance that died is picked up by another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import updates
from storage.db import SessionFactory, session_scope, write_turn
from storage.driver_calls import sends_alone
from storage.models import ProcessedUpdate

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AMIRA, OLENA = 1001, 1002


async def record(sessions: SessionFactory, update_id: int, person: int | None, now: datetime = NOW) -> bool:
    async with session_scope(sessions) as session:
        return await updates.record_update(session, update_id, person, f'{{"update_id": {update_id}}}', now)


async def turn(
    sessions: SessionFactory, update_id: int, person: int | None, now: datetime = NOW
) -> updates.Turn:
    async with session_scope(sessions) as session:
        return await updates.take_turn(session, update_id, person, now)


async def claim(sessions: SessionFactory, update_id: int) -> bool:
    async with session_scope(sessions) as session:
        return await updates.claim_update(session, update_id, NOW)


async def end(sessions: SessionFactory, update_id: int) -> None:
    async with session_scope(sessions) as session:
        await updates.end_turn(session, update_id)


async def test_a_redelivered_update_is_recorded_once_and_claimed_once(sessions: SessionFactory) -> None:
    assert await record(sessions, 10, AMIRA)
    assert not await record(sessions, 10, AMIRA)
    assert await turn(sessions, 10, AMIRA) is updates.Turn.TAKEN
    assert await claim(sessions, 10)
    assert not await claim(sessions, 10)
    await end(sessions, 10)
    assert await turn(sessions, 10, AMIRA) is updates.Turn.DONE


async def test_a_persons_later_update_waits_until_the_earlier_one_is_finished(
    sessions: SessionFactory,
) -> None:
    for update_id, person in ((1, AMIRA), (2, OLENA), (3, AMIRA)):
        await record(sessions, update_id, person)

    assert await turn(sessions, 3, AMIRA) is updates.Turn.WAIT, "Amira's first message is not handled yet"
    assert await turn(sessions, 2, OLENA) is updates.Turn.TAKEN, "other people do not wait"
    assert await turn(sessions, 1, AMIRA) is updates.Turn.TAKEN
    await claim(sessions, 1)
    assert await turn(sessions, 3, AMIRA) is updates.Turn.WAIT, "still being handled"
    await end(sessions, 1)
    assert await turn(sessions, 3, AMIRA) is updates.Turn.TAKEN
    assert await turn(sessions, 3, AMIRA) is updates.Turn.WAIT, "one instance at a time"


async def test_the_turn_of_an_instance_that_died_lapses(sessions: SessionFactory) -> None:
    await record(sessions, 1, AMIRA)
    await record(sessions, 2, AMIRA)
    assert await turn(sessions, 1, AMIRA) is updates.Turn.TAKEN
    await claim(sessions, 1)  # and then the process is killed
    assert (
        await turn(sessions, 2, AMIRA, NOW + updates.TURN_LEASE - timedelta(seconds=1)) is updates.Turn.WAIT
    )
    assert await turn(sessions, 2, AMIRA, NOW + updates.TURN_LEASE) is updates.Turn.TAKEN
    assert await turn(sessions, 1, AMIRA, NOW + updates.TURN_LEASE) is updates.Turn.DONE, (
        "never handled twice"
    )


async def test_stranded_updates_are_taken_once_after_the_grace_period(sessions: SessionFactory) -> None:
    grace = timedelta(seconds=10)
    await record(sessions, 1, AMIRA)
    await record(sessions, 2, OLENA)
    await turn(sessions, 2, OLENA)
    await claim(sessions, 2)
    async with session_scope(sessions) as session:
        assert await updates.take_stranded(session, NOW + timedelta(seconds=5), grace) == []
    async with session_scope(sessions) as session:
        assert await updates.take_stranded(session, NOW + grace + timedelta(seconds=1), grace) == [
            '{"update_id": 1}'
        ]
    async with session_scope(sessions) as session:
        assert await updates.take_stranded(session, NOW + grace + timedelta(seconds=2), grace) == []


async def test_polled_updates_are_claimed_directly_and_only_handled_ones_are_forgotten(
    sessions: SessionFactory,
) -> None:
    async with session_scope(sessions) as session:
        assert await updates.claim_update(session, 5, NOW - timedelta(days=3))
    await record(sessions, 6, AMIRA, NOW - timedelta(days=3))
    async with session_scope(sessions) as session:
        assert await updates.forget_old_updates(session, NOW) == 1
    async with sessions() as session:
        assert (await session.scalars(select(ProcessedUpdate.update_id))).all() == [6]


async def test_claiming_several_at_once_claims_recorded_and_new_ids_but_never_one_twice(
    sessions: SessionFactory,
) -> None:
    await record(sessions, 20, AMIRA)  # a webhook update waiting to be handled
    assert await claim(sessions, 21)  # handled already
    async with session_scope(sessions) as session:
        claimed = await updates.claim_updates(session, [20, 21, 22, 22, 23], NOW)
    assert claimed == {20, 22, 23}
    async with session_scope(sessions) as session:
        assert await updates.claim_updates(session, [20, 22, 23], NOW) == set()
        handled = (
            await session.scalars(
                select(ProcessedUpdate.update_id).where(ProcessedUpdate.handled_at.is_not(None))
            )
        ).all()
    assert sorted(handled) == [20, 21, 22, 23]


async def test_a_claim_sent_straight_through_the_driver_does_what_the_sessions_claim_does(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    assert sends_alone(engine), "both test databases use a driver the gate claims through"
    await record(sessions, 30, AMIRA)  # a webhook update waiting to be handled
    assert await claim(sessions, 31)  # handled already
    async with write_turn(engine):
        claimed = await updates.claim_updates_alone(engine, [30, 31, 32, 32], NOW)
    assert claimed == {30, 32}
    async with session_scope(sessions) as session:
        stored = {
            row.update_id: (row.processed_at, row.handled_at)
            for row in await session.scalars(select(ProcessedUpdate).where(ProcessedUpdate.update_id >= 30))
        }
    assert stored == {30: (NOW, NOW), 31: (NOW, NOW), 32: (NOW, NOW)}
