"""The weekly digest for advisors: which of their cases need attention (case numbers only)."""

from __future__ import annotations

from datetime import time, tzinfo

from telegram.ext import JobQueue

from handlers.appointment_texts import tell
from handlers.context import BotContext
from handlers.durations import duration_text
from locales import Translator
from storage.appointment_views import case_digests
from storage.case_files import PERIOD_WARNING
from storage.db import session_scope

JOB_ID = "case-flags-digest"


def digest_text(t: Translator, flags: dict[str, list[str]]) -> str | None:
    """Counts and case numbers per flag; ``None`` when nothing needs attention."""
    parts = []
    headings = {
        "plan_missing": t.npgettext(
            "case_digest",
            "{n} case without an integration plan after two consultations:",
            "{n} cases without an integration plan after two consultations:",
            len(flags["plan_missing"]),
        ),
        "review_due": t.npgettext(
            "case_digest", "{n} plan review is due:", "{n} plan reviews are due:", len(flags["review_due"])
        ),
        "period_ending": t.npgettext(
            "case_digest",
            "{n} counselling period ends within {period}:",
            "{n} counselling periods end within {period}:",
            len(flags["period_ending"]),
            period=duration_text(t, PERIOD_WARNING, months=False),
        ),
    }
    for flag, numbers in flags.items():
        if numbers:
            parts.append(f"{headings[flag]}\n" + ", ".join(numbers))
    if not parts:
        return None
    return t.pgettext("case_digest", "<b>Your cases this week</b>") + "\n\n" + "\n\n".join(parts)


async def send_case_digests(context: BotContext) -> None:
    """Job: every advisor with flagged cases gets their list; nothing is sent otherwise."""
    runtime = context.runtime
    today = context.now().astimezone(runtime.zone).date()
    async with session_scope(runtime.sessions) as session:
        flagged = await case_digests(session, today)
    for advisor, flags in flagged:
        t = Translator(advisor.language or runtime.default_language, runtime.zone)
        text = digest_text(t, flags)
        if text is not None:
            await tell(context.bot, runtime.sessions, advisor, text, context.now())


def schedule_jobs(job_queue: JobQueue, zone: tzinfo) -> None:
    """Mondays 07:00 local time (PTB counts days from 0 = Sunday)."""
    job_queue.run_daily(
        send_case_digests,
        time=time(7, 0, tzinfo=zone),
        days=(1,),
        name=JOB_ID,
        job_kwargs={"id": JOB_ID, "replace_existing": True},
    )
