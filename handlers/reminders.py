"""Job callbacks that send what is due: appointment reminders, advisors' outcome questions, and
waiting-list offers. The database decides what is due (``storage.reminders``); this module only
turns claimed rows into messages.

The dispatcher sends a small window of reminders at a time (at most :data:`WINDOW` between their
stamp "going out" and Telegram's answer; each outcome is committed right after) and keeps up to a
window more claimed ahead, so that when one finishes the next is ready without waiting for the
database. It claims as many as there is room for and loads their texts' data in the same short
transaction (one query), sends through the bot's rate limiter (Telegram's ~30 messages/s overall;
one chat gets at most one reminder per second), and records every outcome right after its send.
One recorder writes the stamp "going out" before each send and the outcome after it, committing
whatever has arrived since its last commit (a few milliseconds): a crash can repeat only the
reminders in flight at that instant, once (see ``storage.reminders``); those claimed and not yet
stamped simply become due again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import JobQueue

from handlers import advisor
from handlers.appointment_texts import tell, when_text
from handlers.appointments import CANCEL, CONFIRMED, MOVE, offer_freed_times
from handlers.context import BotContext
from locales import Translator
from storage import people, reminders
from storage.advisors import default_place
from storage.appointment_views import AppointmentView, load_view, load_views
from storage.db import SessionFactory, read_scope, session_scope, writes_take_turns
from storage.reminders import DueReminder, Outcome

log = logging.getLogger(__name__)
# Reminders being sent (stamped "going out", no answer from Telegram yet), at most; as many more
# are claimed ahead. Only those whose request has left the rate limiter's queue are in doubt after
# a crash; the others simply become due again.
WINDOW = 50
SAME_CHAT_SPACING = 1.0
# Commits under way at once; SQLite writes one at a time anyway, and a second commit waiting for
# its turn would only make both smaller.
COMMITS_AT_ONCE = 2
JOB_ID = "reminder-dispatcher"
RUN_BUDGET_SECONDS = 20.0


def reminder_text(t: Translator, kind: str, starts_at: datetime, ends_at: datetime, place: str) -> str:
    when = when_text(t, starts_at, ends_at)
    if kind == "before_24h":
        return t.pgettext(
            "reminders",
            "⏰ <b>Reminder:</b> your consultation is tomorrow.\n{when}\n📍 {place}",
            when=when,
            place=place,
        )
    return t.pgettext(
        "reminders",
        "⏰ <b>Your consultation starts in 2 hours.</b>\n{when}\n📍 {place}",
        when=when,
        place=place,
    )


def reminder_buttons(t: Translator) -> tuple[str, str, str]:
    """The reminder's three button labels: come, move, cancel."""
    return (
        t.pgettext("reminders", "✅ I will come"),
        t.pgettext("reminders", "↔ Move"),
        t.pgettext("reminders", "✖ Cancel"),
    )


def reminder_keyboard(labels: tuple[str, str, str], appointment_id: int) -> InlineKeyboardMarkup:
    come, move, cancel = labels
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(come, callback_data=CONFIRMED.encode(appointment_id))],
            [
                InlineKeyboardButton(move, callback_data=MOVE.encode(appointment_id)),
                InlineKeyboardButton(cancel, callback_data=CANCEL.encode(appointment_id)),
            ],
        ]
    )


class Texts:
    """What one run of the dispatcher writes, each piece made once: reminders due together are for
    appointments at the same few times, so most texts repeat."""

    def __init__(self, default_language: str, zone: tzinfo) -> None:
        self._default_language = default_language
        self._zone = zone
        self._translators: dict[str, Translator] = {}
        self._texts: dict[tuple[str, str, datetime, datetime, str], str] = {}
        self._buttons: dict[str, tuple[str, str, str]] = {}

    def translator(self, language: str | None) -> Translator:
        language = language or self._default_language
        t = self._translators.get(language)
        if t is None:
            t = self._translators[language] = Translator(language, self._zone)
        return t

    def reminder(self, due: DueReminder, place: str) -> tuple[str, InlineKeyboardMarkup]:
        """The reminder's text and keyboard in its reader's language."""
        language = due.language or self._default_language
        key = (language, due.kind, due.starts_at, due.ends_at, place)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = reminder_text(
                self.translator(language), due.kind, due.starts_at, due.ends_at, place
            )
        labels = self._buttons.get(language)
        if labels is None:
            labels = self._buttons[language] = reminder_buttons(self.translator(language))
        return text, reminder_keyboard(labels, due.appointment_id)


async def _send_one(
    context: BotContext,
    texts: Texts,
    due: DueReminder,
    view: AppointmentView | None,
    going_out: Callable[[], Awaitable[None]],
) -> Outcome:
    """Send one claimed reminder; how it ended. ``going_out`` is awaited right before the message
    leaves for Telegram: by the rate limiter when it can say when (after the reminder's turn in
    the queue), else here. ``view`` is the appointment shown in an advisor's outcome question."""
    runtime = context.runtime
    try:
        if due.kind == reminders.OUTCOME:
            if view is None:
                return Outcome.DROPPED  # the appointment is gone
            await going_out()
            return Outcome.SENT if await advisor.send_outcome_prompt(context, view) else Outcome.FAILED
        if due.chat is None or due.blocked:
            return Outcome.FAILED
        text, keyboard = texts.reminder(due, due.place or default_place(runtime.municipality))
        announces = getattr(context.bot.rate_limiter, "announces", False)
        if not announces:
            await going_out()
        await context.bot.send_message(
            due.chat, text, reply_markup=keyboard, rate_limit_args=going_out if announces else None
        )
    except Forbidden:
        await _person_unreachable(context, due)
        return Outcome.FAILED
    except RetryAfter:
        log.warning("reminder %s will be retried: Telegram asked to wait", due.id)
        return Outcome.RETRY
    except NetworkError as error:
        log.warning("reminder %s may not have arrived: %s", due.id, type(error).__name__)
        return Outcome.UNCERTAIN
    except TelegramError as error:
        log.warning("reminder %s failed: %s", due.id, type(error).__name__)
        return Outcome.FAILED
    return Outcome.SENT


async def _person_unreachable(context: BotContext, due: DueReminder) -> None:
    """The person blocked the bot: mark them, and tell their advisor (first name and case only)."""
    if due.chat is None:
        return
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        await people.mark_blocked(session, due.chat, context.now())
    async with read_scope(runtime.sessions) as session:
        view = await load_view(session, due.appointment_id, runtime.municipality)
    if view is not None and view.advisor is not None:
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


class OutcomeRecorder:
    """Writes what happens to claimed reminders as it happens: :meth:`attempt` returns once the
    reminder is stamped as going out, :meth:`record` once its outcome is stored. Each commit takes
    everything that arrived meanwhile (one short transaction each time). On PostgreSQL two commits
    may be under way at once, so the stamps waiting for one need not wait for the other's round
    trips. They never touch the same reminder: its outcome arrives only after its stamp is
    committed."""

    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock
        self._attempts: dict[int, asyncio.Future[None]] = {}
        self._outcomes: dict[int, tuple[Outcome, asyncio.Future[None]]] = {}
        self._arrived = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OutcomeRecorder]:
        self._task = asyncio.create_task(self._write())
        try:
            yield self
        finally:
            self._closing = True
            self._arrived.set()
            await self._task

    async def attempt(self, reminder_id: int) -> None:
        """Stamp the reminder as going out now; returns once that is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._attempts[reminder_id] = future
        self._arrived.set()
        await future

    async def record(self, reminder_id: int, outcome: Outcome) -> None:
        """Store how the reminder ended; returns once that is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes[reminder_id] = (outcome, future)
        self._arrived.set()
        await future

    async def _write(self) -> None:
        lanes = asyncio.Semaphore(1 if writes_take_turns(self._sessions) else COMMITS_AT_ONCE)
        commits: set[asyncio.Task[None]] = set()
        while True:
            await self._arrived.wait()
            await lanes.acquire()  # what arrives while both lanes are busy joins the next commit
            self._arrived.clear()
            attempts, self._attempts = self._attempts, {}
            outcomes, self._outcomes = self._outcomes, {}
            if attempts or outcomes:
                commit = asyncio.create_task(self._commit(attempts, outcomes))
                commits.add(commit)
                commit.add_done_callback(commits.discard)
                commit.add_done_callback(lambda _: lanes.release())
            else:
                lanes.release()
            if self._closing and not self._attempts and not self._outcomes:
                await asyncio.gather(*commits)
                return

    async def _commit(
        self,
        attempts: dict[int, asyncio.Future[None]],
        outcomes: dict[int, tuple[Outcome, asyncio.Future[None]]],
    ) -> None:
        futures = [*attempts.values(), *(future for _, future in outcomes.values())]
        try:
            async with session_scope(self._sessions) as session:
                now = self._clock()
                if attempts:
                    await reminders.mark_attempted(session, list(attempts), now)
                if outcomes:
                    await reminders.record_outcomes(
                        session, {reminder_id: outcome for reminder_id, (outcome, _) in outcomes.items()}, now
                    )
        except Exception as error:  # each sender sees the failure of its own write
            for future in futures:
                future.set_exception(error)
        else:
            for future in futures:
                future.set_result(None)


class _Run:
    """One run of the dispatcher: a window of claimed reminders, refilled as outcomes are recorded."""

    def __init__(self, context: BotContext, recorder: OutcomeRecorder) -> None:
        self.context = context
        self.recorder = recorder
        runtime = context.runtime
        self.texts = Texts(runtime.default_language, runtime.zone)
        self.views: dict[int, AppointmentView] = {}  # for the advisors' outcome questions
        self.held = 0  # claimed, outcome not yet committed
        self.sending = asyncio.Semaphore(WINDOW)
        self.sent = 0
        self.room = asyncio.Condition()
        self.chats: dict[int, tuple[asyncio.Lock, list[float]]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def claim(self) -> list[DueReminder] | None:
        """Claim as many due reminders as the window has room for (``None``: nothing due)."""
        claimed_at_most = 2 * WINDOW
        async with self.room:
            await self.room.wait_for(lambda: self.held <= WINDOW)
            room = claimed_at_most - self.held
        runtime = self.context.runtime
        now = self.context.now()
        async with session_scope(runtime.sessions) as session:  # one short transaction
            claimed = await reminders.claim_due(session, now, room)
            if not claimed:
                return None
            loaded = await reminders.load_claimed(session, claimed)
            questions = [due.appointment_id for due in loaded if due.kind == reminders.OUTCOME]
            if questions:
                self.views.update(await load_views(session, questions, runtime.municipality))
        self.held += len(loaded)  # a reminder whose appointment was deleted meanwhile is gone with it
        return loaded

    def start(self, due: DueReminder) -> None:
        task = asyncio.create_task(self._deliver(due))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, due: DueReminder) -> None:
        runtime = self.context.runtime
        view = self.views.pop(due.appointment_id, None) if due.kind == reminders.OUTCOME else None
        try:
            if not reminders.still_true(due, self.context.now(), runtime.zone):
                await self.recorder.record(due.id, Outcome.DROPPED)
                return
            outcome = await self._in_turn(due.chat or 0, lambda: self._send(due, view))
            self.sent += outcome == Outcome.SENT
        except Exception:
            log.exception("reminder %s: outcome not recorded; it is resent after a while", due.id)
        finally:
            async with self.room:
                self.held -= 1
                self.room.notify_all()

    async def _send(self, due: DueReminder, view: AppointmentView | None) -> Outcome:
        """Send within the window, then record the outcome: the next send need not wait for that
        commit (the next claim does)."""
        async with self.sending:
            outcome = await _send_one(
                self.context, self.texts, due, view, lambda: self.recorder.attempt(due.id)
            )
        await self.recorder.record(due.id, outcome)
        return outcome

    async def _in_turn(self, chat: int, send: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """One message per chat at a time, and at least a second after the previous one ended."""
        lock, last = self.chats.setdefault(chat, (asyncio.Lock(), [0.0]))
        async with lock:
            wait = last[0] + SAME_CHAT_SPACING - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await send()
            finally:
                last[0] = time.monotonic()

    async def finish(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))


async def dispatch_reminders(context: BotContext) -> int:
    """Job: release what a crashed process left, then keep the window full while reminders are
    due (a backlog after downtime), within a time budget so one run never overlaps the next.
    Returns how many messages went out."""
    runtime = context.runtime
    started = time.monotonic()
    async with session_scope(runtime.sessions) as session:
        resent, dropped = await reminders.release_stuck(session, context.now())
    if resent or dropped:
        log.warning("reminders left by a stopped dispatcher: %s due again, %s dropped", resent, dropped)
    async with OutcomeRecorder(runtime.sessions, context.now).running() as recorder:
        run = _Run(context, recorder)
        try:
            while time.monotonic() - started < RUN_BUDGET_SECONDS:
                claimed = await run.claim()
                if claimed is None:
                    break
                for due in claimed:
                    run.start(due)
        finally:
            await run.finish()
    return run.sent


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
