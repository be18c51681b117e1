"""The daily clean-up of desk access: expired sign-in links, idle sessions and expired staff
invitations are deleted (``storage.desk_access``, ``storage.invites``)."""

from __future__ import annotations

import logging
from datetime import time, tzinfo

from telegram.ext import JobQueue

from handlers.context import BotContext
from storage import desk_access, invites
from storage.db import session_scope

log = logging.getLogger(__name__)
JOB_ID = "desk-access-purge"


async def purge_desk_access(context: BotContext) -> None:
    """Job: delete what can no longer open anything."""
    async with session_scope(context.runtime.sessions) as session:
        purged = await desk_access.purge_expired(session, context.now())
        invitations = await invites.purge_expired(session, context.now())
    log.info(
        "desk access purge: %s sign-in links, %s sessions, %s invitations",
        purged.sign_ins,
        purged.sessions,
        invitations,
    )


def schedule_jobs(job_queue: JobQueue, zone: tzinfo) -> None:
    """Daily at 03:30 local time, with a fixed id so a restart never runs it twice."""
    job_queue.run_daily(
        purge_desk_access,
        time=time(3, 30, tzinfo=zone),
        name=JOB_ID,
        job_kwargs={"id": JOB_ID, "replace_existing": True},
    )
