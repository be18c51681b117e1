"""Scheduled jobs that run once across instances: every occurrence is claimed in the database
(``storage.jobs``) before it runs, whichever instance's JobQueue fires first.

An occurrence is the job's period: the local day for a daily or weekly job, the interval's slot
(seconds since the epoch divided by the interval) for a repeating one, so instances that started
at different times still agree. The claim is a lease, renewed while the job runs; an instance that
finds the occurrence held by another checks again when that lease ends, and takes it over if its
holder died without finishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram.ext import Job, JobQueue

from handlers.context import BotContext
from storage import jobs
from storage.db import session_scope

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)
JobCallback = Callable[[BotContext], object]


def instance_name() -> str:
    """This process among the instances: host, process id and a random part (at most 64 chars)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


def period_of(job: Job) -> Callable[[datetime], str]:
    """How to name the occurrence a job's firing at ``now`` belongs to."""
    trigger = job.job.trigger
    if isinstance(trigger, IntervalTrigger):
        seconds = trigger.interval.total_seconds()
        return lambda now: f"every-{seconds:g}s-{int(now.timestamp() // seconds)}"
    if isinstance(trigger, CronTrigger):
        zone = trigger.timezone
        return lambda now: now.astimezone(zone).date().isoformat()
    raise ValueError(f"job {job.name!r} has a trigger that has no period: {trigger}")


def claim_each_occurrence(
    job_queue: JobQueue, owner: str, *, except_jobs: Collection[str], lease: timedelta = CLAIM_LEASE
) -> None:
    """Make every scheduled job but ``except_jobs`` claim each occurrence before it runs. The
    exceptions are jobs that are safe in every instance at once (the reminder dispatcher claims
    its rows with ``SKIP LOCKED`` and should run wherever there is capacity)."""
    for job in job_queue.jobs():
        if job.name in except_jobs:
            continue
        job.callback = run_once_per_period(job.name or "", job.callback, period_of(job), owner, lease)


def run_once_per_period(
    name: str, callback: JobCallback, period: Callable[[datetime], str], owner: str, lease: timedelta
) -> JobCallback:
    """``callback`` wrapped so that across all instances it runs once per period."""

    async def run(context: BotContext) -> None:
        await run_occurrence(context, name, period(context.now()), callback, owner, lease)

    return run


async def run_occurrence(
    context: BotContext, name: str, period: str, callback: JobCallback, owner: str, lease: timedelta
) -> None:
    """Claim one occurrence and run it, or leave it to the instance that holds it."""
    sessions = context.runtime.sessions
    now = context.now()
    async with session_scope(sessions) as session:
        claim = await jobs.claim_run(session, name, period, owner, now, lease)
    if claim.outcome is jobs.Outcome.DONE:
        return
    if claim.outcome is jobs.Outcome.HELD:
        assert claim.lease_until is not None

        async def take_over(later: BotContext) -> None:
            await run_occurrence(later, name, period, callback, owner, lease)

        if context.job_queue is not None:
            wait = max(claim.lease_until - now, timedelta(0)) + timedelta(seconds=1)
            context.job_queue.run_once(take_over, when=wait, name=f"{name}-takeover")
        return
    renewal = asyncio.create_task(_renew(context, name, period, owner, lease))
    try:
        await callback(context)  # type: ignore[misc]
    except BaseException:
        async with session_scope(sessions) as session:
            await jobs.release_run(session, name, period, owner, context.now())
        raise
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
    async with session_scope(sessions) as session:
        await jobs.finish_run(session, name, period, owner, context.now())
    log.info("job %s ran for %s", name, period)


async def _renew(context: BotContext, name: str, period: str, owner: str, lease: timedelta) -> None:
    """Keep the lease while the job runs, at a third of its length."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        async with session_scope(context.runtime.sessions) as session:
            if not await jobs.renew_run(session, name, period, owner, context.now(), lease):
                log.warning("job %s lost its claim on %s", name, period)
                return
