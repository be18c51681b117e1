"""Job occurrences are claimed once across instances, and a dead instance's claim is taken over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage import jobs
from storage.db import SessionFactory, session_scope

NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def claim(
    sessions: SessionFactory, owner: str, now: datetime = NOW, period: str = "2026-03-02"
) -> jobs.Claim:
    async with session_scope(sessions) as session:
        return await jobs.claim_run(session, "agenda-digest", period, owner, now, LEASE)


async def test_of_instances_claiming_the_same_occurrence_together_exactly_one_runs_it(
    sessions: SessionFactory,
) -> None:
    claims = await asyncio.gather(*(claim(sessions, f"instance-{n}") for n in range(5)))
    assert sorted(c.outcome for c in claims) == [jobs.Outcome.HELD] * 4 + [jobs.Outcome.RUN]
    assert {c.lease_until for c in claims} == {NOW + LEASE}


async def test_a_finished_occurrence_is_not_run_again_but_the_next_period_is(
    sessions: SessionFactory,
) -> None:
    assert (await claim(sessions, "a")).outcome is jobs.Outcome.RUN
    async with session_scope(sessions) as session:
        await jobs.finish_run(session, "agenda-digest", "2026-03-02", "a", NOW + timedelta(seconds=3))
    assert (await claim(sessions, "b", NOW + timedelta(hours=1))).outcome is jobs.Outcome.DONE
    assert (await claim(sessions, "b", NOW + timedelta(days=1), "2026-03-03")).outcome is jobs.Outcome.RUN


async def test_the_claim_of_an_instance_that_died_is_taken_over_when_its_lease_ends(
    sessions: SessionFactory,
) -> None:
    assert (await claim(sessions, "dies")).outcome is jobs.Outcome.RUN
    assert (
        await claim(sessions, "survivor", NOW + LEASE - timedelta(seconds=1))
    ).outcome is jobs.Outcome.HELD
    assert (await claim(sessions, "survivor", NOW + LEASE)).outcome is jobs.Outcome.RUN
    async with session_scope(sessions) as session:
        assert not await jobs.renew_run(session, "agenda-digest", "2026-03-02", "dies", NOW + LEASE, LEASE)
        await jobs.finish_run(session, "agenda-digest", "2026-03-02", "dies", NOW + LEASE)
    later = NOW + LEASE + timedelta(minutes=1)  # within the survivor's lease
    assert (await claim(sessions, "third", later)).outcome is jobs.Outcome.HELD, (
        "the old owner cannot finish it"
    )


async def test_a_renewed_lease_keeps_the_occurrence_and_a_failed_run_releases_it(
    sessions: SessionFactory,
) -> None:
    assert (await claim(sessions, "a")).outcome is jobs.Outcome.RUN
    async with session_scope(sessions) as session:
        assert await jobs.renew_run(
            session, "agenda-digest", "2026-03-02", "a", NOW + timedelta(minutes=4), LEASE
        )
    assert (await claim(sessions, "b", NOW + timedelta(minutes=6))).outcome is jobs.Outcome.HELD
    async with session_scope(sessions) as session:
        await jobs.release_run(session, "agenda-digest", "2026-03-02", "a", NOW + timedelta(minutes=7))
    assert (await claim(sessions, "b", NOW + timedelta(minutes=7))).outcome is jobs.Outcome.RUN


async def test_old_finished_runs_are_forgotten(sessions: SessionFactory) -> None:
    await claim(sessions, "a")
    async with session_scope(sessions) as session:
        await jobs.finish_run(session, "agenda-digest", "2026-03-02", "a", NOW)
    await claim(sessions, "a", NOW, "2026-03-03")
    async with session_scope(sessions) as session:
        assert await jobs.forget_old_runs(session, NOW + jobs.KEEP_RUNS_FOR + timedelta(days=1)) == 1
