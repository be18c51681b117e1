"""Scheduled jobs that run once across instances: each occurrence is claimed by one row per job and
period. The claim is a lease: an instance renews it while the job runs, and a claim whose holder
died lapses, so another instance takes the occurrence over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignoring_conflicts
from storage.models import JobRun

KEEP_RUNS_FOR = timedelta(days=30)


class Outcome(StrEnum):
    RUN = "run"  # this instance runs the occurrence now
    DONE = "done"  # it ran to the end already
    HELD = "held"  # another instance holds it until ``lease_until``


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    lease_until: datetime | None = None


async def claim_run(
    session: AsyncSession, job: str, period: str, owner: str, now: datetime, lease: timedelta
) -> Claim:
    """Claim one occurrence of a job for ``owner``: a new row, or a row whose lease lapsed without
    the job finishing (its instance died). Unique (job, period) lets exactly one instance win."""
    inserted = await session.execute(
        insert_ignoring_conflicts(session, JobRun, ["job", "period"]).values(
            job=job, period=period, claimed_by=owner, claimed_at=now, lease_until=now + lease
        )
    )
    if inserted.rowcount:
        return Claim(Outcome.RUN, now + lease)
    taken_over = await session.execute(
        update(JobRun)
        .where(
            JobRun.job == job,
            JobRun.period == period,
            JobRun.finished_at.is_(None),
            JobRun.lease_until <= now,
        )
        .values(claimed_by=owner, claimed_at=now, lease_until=now + lease)
    )
    if taken_over.rowcount:
        return Claim(Outcome.RUN, now + lease)
    row = (
        await session.execute(
            select(JobRun.finished_at, JobRun.lease_until).where(JobRun.job == job, JobRun.period == period)
        )
    ).one()
    if row.finished_at is not None:
        return Claim(Outcome.DONE)
    return Claim(Outcome.HELD, row.lease_until)


async def renew_run(
    session: AsyncSession, job: str, period: str, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Extend the owner's lease while the job still runs; ``False`` when the claim was lost."""
    result = await session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.claimed_by == owner)
        .where(JobRun.finished_at.is_(None))
        .values(lease_until=now + lease)
    )
    return bool(result.rowcount)


async def finish_run(session: AsyncSession, job: str, period: str, owner: str, now: datetime) -> None:
    """The occurrence ran to the end: nobody runs it again."""
    await session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.claimed_by == owner)
        .values(finished_at=now)
    )


async def release_run(session: AsyncSession, job: str, period: str, owner: str, now: datetime) -> None:
    """The job failed: let the lease lapse at once, so the next attempt may take it."""
    await session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.claimed_by == owner)
        .where(JobRun.finished_at.is_(None))
        .values(lease_until=now)
    )


async def forget_old_runs(session: AsyncSession, now: datetime) -> int:
    """Drop finished claims older than ``KEEP_RUNS_FOR``; returns how many went."""
    result = await session.execute(
        delete(JobRun).where(JobRun.finished_at.is_not(None), JobRun.claimed_at < now - KEEP_RUNS_FOR)
    )
    return int(result.rowcount or 0)
