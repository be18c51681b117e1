"""Job callbacks that send what is due: appointment reminders, advisors' outcome questions, and
waiting-list offers. The database decides what is due (``storage.reminders``); this module only
turns claimed rows into messages.

Sends go through the bot's rate limiter (Telegram's ~30 messages/s overall); one chat gets at most
one reminder per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import JobQueue

from handlers import advisor
from handlers.appointment_texts import tell, when_text
from handlers.appointments import CANCEL, CONFIRMED, MOVE, offer_freed_times
from handlers.context import BotContext
from locales import Translator
from storage import people, reminders
from storage.appointment_views import AppointmentView, load_view
from storage.db import session_scope
from storage.models import ReminderStatus

log = logging.getLogger(__name__)
BATCH = 200
PARALLEL_SENDS = 30
SAME_CHAT_SPACING = 1.0
JOB_ID = "reminder-dispatcher"
RUN_BUDGET_SECONDS = 20.0


def reminder_text(t: Translator, view: AppointmentView, kind: str) -> str:
    when = when_text(t, view.appointment.starts_at, view.appointment.ends_at)
    if kind == "before_24h":
        return t.pgettext(
            "reminders",
            "⏰ <b>Reminder:</b> your consultation is tomorrow.\n{when}\n📍 {place}",
            when=when,
            place=view.place,
        )
    return t.pgettext(
        "reminders",
        "⏰ <b>Your consultation starts in 2 hours.</b>\n{when}\n📍 {place}",
        when=when,
        place=view.place,
    )


def reminder_keyboard(t: Translator, appointment_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("reminders", "✅ I will come"), callback_data=CONFIRMED.encode(appointment_id)
                )
            ],
            [
                InlineKeyboardButton(
                    t.pgettext("reminders", "↔ Move"), callback_data=MOVE.encode(appointment_id)
                ),
                InlineKeyboardButton(
                    t.pgettext("reminders", "✖ Cancel"), callback_data=CANCEL.encode(appointment_id)
                ),
            ],
        ]
    )


async def _send_one(context: BotContext, reminder_id: int, kind: str, appointment_id: int) -> None:
    """Send one claimed reminder and record how it ended."""
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    status = ReminderStatus.SENT
    try:
        if view is None:
            status = ReminderStatus.DROPPED
        elif kind == reminders.OUTCOME:
            if not await advisor.send_outcome_prompt(context, view):
                status = ReminderStatus.FAILED
        else:
            person = view.person
            if person is None or person.blocked_at is not None:
                status = ReminderStatus.FAILED
            else:
                t = Translator(person.language or runtime.default_language, runtime.zone)
                await context.bot.send_message(
                    person.telegram_id,
                    reminder_text(t, view, kind),
                    reply_markup=reminder_keyboard(t, appointment_id),
                )
    except Forbidden:
        status = ReminderStatus.FAILED
        if kind != reminders.OUTCOME:  # the outcome question goes to the advisor, not the person
            await _person_unreachable(context, view)
    except (RetryAfter, NetworkError) as error:
        log.warning("reminder %s will be retried: %s", reminder_id, type(error).__name__)
        async with session_scope(runtime.sessions) as session:
            await reminders.retry_later(session, reminder_id)
        return
    except TelegramError as error:
        log.warning("reminder %s failed: %s", reminder_id, type(error).__name__)
        status = ReminderStatus.FAILED
    async with session_scope(runtime.sessions) as session:
        await reminders.finish(session, reminder_id, status, context.now())


async def _person_unreachable(context: BotContext, view: AppointmentView | None) -> None:
    """The person blocked the bot: mark them, and tell their advisor (first name and case only)."""
    if view is None or view.person is None:
        return
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        await people.mark_blocked(session, view.person.telegram_id, context.now())
    if view.advisor is not None:
        t = Translator(view.advisor.language or runtime.default_language, runtime.zone)
        await tell(
            context.bot,
            runtime.sessions,
            view.advisor,
            t.pgettext(
                "reminders",
                "⚠ {name} ({case}) could not be reminded of the appointment on {when}: they have "
                "blocked Wegweiser. Please contact them another way.",
                name=view.case.first_name or "–",
                case=view.case.number,
                when=when_text(t, view.appointment.starts_at, view.appointment.ends_at),
            ),
            context.now(),
        )


async def dispatch_reminders(context: BotContext) -> int:
    """Job: claim what is due, drop what is no longer worth sending, send the rest; batch after
    batch while full batches keep coming (a backlog after downtime), within a time budget so one
    run never overlaps the next. Returns how many messages went out."""
    started = time.monotonic()
    sent = 0
    while True:
        claimed_count, went_out = await _dispatch_batch(context)
        sent += went_out
        if claimed_count < BATCH or time.monotonic() - started > RUN_BUDGET_SECONDS:
            return sent


async def _dispatch_batch(context: BotContext) -> tuple[int, int]:
    runtime = context.runtime
    now = context.now()
    async with session_scope(runtime.sessions) as session:
        await reminders.release_stuck(session, now)
        claimed = await reminders.claim_due(session, now, BATCH)
    if not claimed:
        return 0, 0
    async with session_scope(runtime.sessions) as session:
        due = await reminders.load_claimed(session, claimed)
        to_send = []
        for item in due:
            if reminders.still_worth_sending(item, now):
                to_send.append(item)
            else:
                await reminders.finish(session, item.reminder.id, ReminderStatus.DROPPED, now)
    by_chat: dict[int | None, list] = defaultdict(list)
    for item in to_send:
        outcome = item.reminder.kind == reminders.OUTCOME
        by_chat[item.appointment.advisor_id if outcome else item.appointment.person_id].append(item)
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def send_chat(items: list) -> None:
        for position, item in enumerate(items):
            if position:
                await asyncio.sleep(SAME_CHAT_SPACING)
            async with gate:
                await _send_one(context, item.reminder.id, item.reminder.kind, item.appointment.id)

    await asyncio.gather(*(send_chat(items) for items in by_chat.values()))
    return len(claimed), len(to_send)


async def offer_waiting_list(context: BotContext) -> None:
    """Job: let lapsed waiting-list offers pass to the next person in line."""
    await offer_freed_times(context)


def schedule_jobs(job_queue: JobQueue, interval_seconds: float) -> None:
    """The dispatcher (and waiting list), with fixed ids so a restart never runs them twice."""
    job_queue.run_repeating(
        dispatch_reminders,
        interval=interval_seconds,
        first=interval_seconds,
        name=JOB_ID,
        job_kwargs={"id": JOB_ID, "replace_existing": True, "max_instances": 1, "coalesce": True},
    )
    job_queue.run_repeating(
        offer_waiting_list,
        interval=timedelta(minutes=10),
        first=timedelta(minutes=1),
        name="waiting-list",
        job_kwargs={"id": "waiting-list", "replace_existing": True},
    )
