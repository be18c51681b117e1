"""The daily retention job: cases closed longer than the retention period are anonymised and
people whose last contact is older are deleted (``storage.retention``). Run by hand with
``wegweiser retention run [--dry-run]``."""

from __future__ import annotations

import logging
from datetime import time, tzinfo

from telegram.ext import JobQueue

from handlers.context import BotContext
from storage import retention
from storage.db import session_scope

log = logging.getLogger(__name__)
JOB_ID = "case-retention"


async def run_retention(context: BotContext) -> None:
    """Job: anonymise the cases closed longer than the retention period; delete inactive people."""
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        result = await retention.apply_retention(session, context.now(), runtime.retention)
    log.info(
        "retention: anonymised %s closed cases, deleted %s inactive people",
        len(result.cases.cases),
        result.people.people,
    )


def schedule_jobs(job_queue: JobQueue, zone: tzinfo) -> None:
    """Daily at 03:00 local time, with a fixed id so a restart never runs it twice."""
    job_queue.run_daily(
        run_retention,
        time=time(3, 0, tzinfo=zone),
        name=JOB_ID,
        job_kwargs={"id": JOB_ID, "replace_existing": True},
    )
