"""The daily audit anchor: the audit log's head (entry count and last hash) leaves the database
every day, as a short text message to each admin and, when configured, a line in the anchor file
(``WEGWEISER_AUDIT_ANCHOR_FILE``). ``wegweiser audit check --anchor COUNT:HASH`` then shows whether
entries were removed since (``storage.audit``)."""

from __future__ import annotations

import logging
from datetime import time, tzinfo
from pathlib import Path

from sqlalchemy import select
from telegram.ext import JobQueue

from handlers.appointment_texts import tell
from handlers.context import BotContext
from locales import Translator
from storage import audit
from storage.db import session_scope
from storage.models import Person, Role

log = logging.getLogger(__name__)
JOB_ID = "audit-anchor"


def anchor_text(t: Translator, anchor: audit.Anchor, day: str) -> str:
    return t.pgettext(
        "audit_anchor",
        "Audit log check value for {day}: {anchor}\n\nPlease keep this message. With it, the "
        "administrator can prove later that no entry of the audit log was removed.",
        day=day,
        anchor=str(anchor),
    )


async def send_audit_anchor(context: BotContext) -> None:
    """Job: write the head to the anchor file (if configured) and send it to every admin."""
    runtime = context.runtime
    anchor_file: Path | None = context.job.data if context.job else None
    async with session_scope(runtime.sessions) as session:
        anchor = await audit.current_anchor(session)
        admins = (await session.scalars(select(Person).where(Person.role == Role.ADMIN))).all()
    if anchor_file is not None:
        try:
            audit.append_anchor(anchor_file, anchor, context.now())
        except OSError as error:
            log.error("audit anchor file not written: %s", type(error).__name__)
    for admin in admins:
        t = Translator(admin.language or runtime.default_language, runtime.zone)
        day = t.date(context.now().astimezone(runtime.zone).date(), "medium")
        await tell(context.bot, runtime.sessions, admin, anchor_text(t, anchor, day), context.now())
    log.info("audit anchor sent to %s admins", len(admins))


def schedule_jobs(job_queue: JobQueue, zone: tzinfo, anchor_file: Path | None) -> None:
    """Daily at 06:00 local time, with a fixed id so a restart never runs it twice."""
    job_queue.run_daily(
        send_audit_anchor,
        time=time(6, 0, tzinfo=zone),
        name=JOB_ID,
        data=anchor_file,
        job_kwargs={"id": JOB_ID, "replace_existing": True},
    )
