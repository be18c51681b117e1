"""The dispatcher's statements sent straight through the driver (``storage.driver_calls``) read and
write exactly what they do inside a unit of work, on SQLite and PostgreSQL: claims, the claimed
reminders' data, and stamps and outcomes written together in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import reminders
from storage.db import SessionFactory, session_scope, write_turn
from storage.driver_calls import kept_for_a_run, sends_alone
from storage.models import Reminder
from storage.reminders import ATTEMPTED, Outcome
from tests.support.case_data import add_booked_appointments, local
from tests.support.query_plans import plan_of, sqlite_at_head

STARTS = local(2026, 3, 4, 10)  # Wednesday 10:00 in Hemmingen
NOW = STARTS - timedelta(hours=24)
STEPS = [ATTEMPTED, *Outcome]


async def claimed_reminders(
    sessions: SessionFactory, count: int, *, uncertain: bool = False, first_person: int = 100
) -> list[int]:
    """``count`` booked appointments with a 24-hour reminder each, claimed for the last time it may
    be (a 429 now fails it); ``uncertain``: each was in doubt once before."""
    async with session_scope(sessions) as session:
        ids = []
        for appointment in await add_booked_appointments(
            session, count, first_person, STARTS, timedelta(hours=1)
        ):
            reminder = Reminder(
                appointment_id=appointment.id,
                kind="before_24h",
                due_at=NOW,
                status="sending",
                attempts=reminders.MAX_ATTEMPTS,
                claimed_at=NOW,
                uncertain_at=NOW - timedelta(days=1) if uncertain else None,
            )
            session.add(reminder)
            await session.flush()
            ids.append(reminder.id)
        return ids


async def rows(sessions: SessionFactory, ids: list[int]) -> list[tuple[object, ...]]:
    async with sessions() as session:
        found = await session.execute(
            select(
                Reminder.status,
                Reminder.attempts,
                Reminder.attempted_at,
                Reminder.sent_at,
                Reminder.uncertain_at,
            )
            .where(Reminder.id.in_(ids))
            .order_by(Reminder.id)
        )
        return [tuple(row) for row in found]


async def progress_both_ways(
    engine: AsyncEngine, sessions: SessionFactory, ids: list[int], now: datetime
) -> None:
    """The first half of the steps through a unit of work, the second half through the driver,
    each step applied to two reminders: one written each way."""
    half = len(STEPS)
    for way, chosen in (("session", ids[:half]), ("driver", ids[half:])):
        attempted = [
            reminder_id for reminder_id, step in zip(chosen, STEPS, strict=True) if step == ATTEMPTED
        ]
        outcomes = {
            reminder_id: Outcome(step)
            for reminder_id, step in zip(chosen, STEPS, strict=True)
            if step != ATTEMPTED
        }
        if way == "session":
            async with session_scope(sessions) as session:
                await reminders.record_progress(session, attempted, outcomes, now)
        else:  # as the dispatcher sends them: on PostgreSQL through a connection kept for the run
            async with kept_for_a_run(engine) as through, write_turn(engine):
                await reminders.record_progress(through, attempted, outcomes, now)


async def test_every_step_written_through_the_driver_is_written_as_in_a_unit_of_work(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    assert sends_alone(engine), "both test databases use a driver the dispatcher writes through"
    for uncertain in (False, True):
        ids = await claimed_reminders(
            sessions, 2 * len(STEPS), uncertain=uncertain, first_person=200 if uncertain else 100
        )
        now = NOW + timedelta(minutes=1)
        await progress_both_ways(engine, sessions, ids, now)

        written = await rows(sessions, ids)
        by_session, by_driver = written[: len(STEPS)], written[len(STEPS) :]
        assert by_driver == by_session
        expected_status = {
            ATTEMPTED: "sending",
            Outcome.SENT: "sent",
            Outcome.RETRY: "failed",  # the fifth attempt
            Outcome.UNCERTAIN: "dropped" if uncertain else "pending",
            Outcome.DROPPED: "dropped",
            Outcome.FAILED: "failed",
        }
        for step, (status, _, attempted_at, sent_at, uncertain_at) in zip(STEPS, by_driver, strict=True):
            assert status == expected_status[step], step
            assert (attempted_at == now) == (step == ATTEMPTED), step
            assert (sent_at == now) == (step == Outcome.SENT), step
            assert (uncertain_at == now) == (step == Outcome.UNCERTAIN), step
            assert attempted_at is None or attempted_at.tzinfo is not None


async def test_a_reminder_no_longer_being_sent_keeps_its_state_either_way(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    ids = await claimed_reminders(sessions, 2)
    async with session_scope(sessions) as session:
        await reminders.record_progress(session, [], dict.fromkeys(ids, Outcome.SENT), NOW)
    before = await rows(sessions, ids)
    async with write_turn(engine):
        await reminders.record_progress(engine, [ids[0]], {ids[1]: Outcome.FAILED}, NOW + timedelta(hours=1))
    assert await rows(sessions, ids) == before


async def test_claims_and_the_claimed_data_read_through_the_driver_match_a_unit_of_work(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    ids = await claimed_reminders(sessions, 3)
    async with session_scope(sessions) as session:
        await session.execute(Reminder.__table__.update().values(status="pending"))
    async with write_turn(engine):
        claimed = await reminders.claim_due(engine, NOW, 2)
    assert claimed == ids[:2]  # the two due first (same time: the lowest ids), each claimed once
    async with write_turn(engine):
        assert await reminders.claim_due(engine, NOW, 5) == ids[2:]

    through_driver = await reminders.load_claimed(engine, ids)
    async with session_scope(sessions) as session:
        in_session = await reminders.load_claimed(session, ids)
    assert through_driver == in_session
    assert [due.id for due in through_driver] == ids
    first = through_driver[0]
    assert first.starts_at == STARTS and first.starts_at.tzinfo is not None
    assert first.due_at == NOW.astimezone(UTC)
    assert first.kind == "before_24h" and first.status == "booked" and first.chat == 100


async def test_on_sqlite_each_reminder_of_a_batch_is_found_by_its_id(tmp_path: Path) -> None:
    """SQLite plans without statistics: from the (status, due_at) index it read the whole batch once
    for every reminder being sent, a cost that grows with the sending window (1.5 ms a write with 200
    in flight, against 0.03 ms). The progress write must look each of the batch's reminders up by
    primary key instead, and the load of a claimed batch likewise. (PostgreSQL plans by its
    statistics: a hash join there.)"""
    async with sqlite_at_head(tmp_path) as engine:
        for statement in (reminders._progress_write_on("sqlite"), reminders._load_claimed("sqlite")):
            plan = await plan_of(engine, str(statement.compile(dialect=engine.dialect)))
            assert "SEARCH reminders USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
            assert not any("reminders USING" in step and "INDEX" in step for step in plan), plan
