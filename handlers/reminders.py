"""Job callbacks that send what is due: appointment reminders, advisors' outcome questions, and
waiting-list offers. The database decides what is due (``storage.reminders``); this module only
turns claimed rows into messages.

The dispatcher's senders take claimed reminders from a queue, one at a time each. A sender
stamps its reminder "going out" (committed), then sends it through the bot's rate limiter
(Telegram's ~30 messages/s overall; one chat gets at most one reminder per second) and hands its
outcome to be committed right after. At most :data:`WINDOW` messages are between their send and
Telegram's answer. There are twice as many senders, so the next window's stamps are committed
while the current window is in flight, and no send waits for its stamp's commit when it could go.
The queue is refilled while it still holds a window's worth, so no sender waits for a claim: each
claim and its texts' data are one statement each.

One recorder writes the stamps before the sends and the outcomes after them. Each of its commits
takes whatever has arrived meanwhile, in one statement. A crash can repeat only the reminders in
flight at that instant, once (see ``storage.reminders``). Those stamped but still waiting for
their turn were never sent: they are sent once more, as they should be. Those claimed and not
yet stamped simply become due again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
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
from storage.db import SessionFactory, read_scope, session_scope, write_turn, writes_take_turns
from storage.driver_calls import direct_engine, kept_for_a_run
from storage.reminders import DueReminder, Outcome

log = logging.getLogger(__name__)
# Messages sent and not yet answered by Telegram, at most: only these may be repeated after a crash.
WINDOW = 50
# Senders per window: while one window is in flight, the next one's stamps are being committed.
SENDERS_PER_WINDOW = 2
# Claimed and not yet finished, at most: one reminder per sender and this many windows queued.
QUEUED_WINDOWS = 2
SAME_CHAT_SPACING = 1.0
# Commits under way at once; SQLite writes one at a time anyway, and a second commit waiting for
# its turn would only make both smaller.
COMMITS_AT_ONCE = 2
JOB_ID = "reminder-dispatcher"
Committed = Callable[[BaseException | None], None]
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
    reminder is stamped as going out; :meth:`record` stores its outcome and calls back once that is
    committed (or has failed). Each commit takes everything that arrived meanwhile, in one
    statement: the first arrival starts a commit, and what arrives while it is under way goes in
    the next one, which starts as soon as it ends (no waiting for a writer to wake up). Sent
    straight through the driver where it allows (``storage.driver_calls``), else in a short unit
    of work. On PostgreSQL two commits may be under way at once, so the stamps waiting for one need
    not wait for the other's round trip. They never touch the same reminder: its outcome arrives
    only after its stamp is committed."""

    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock
        self._engine = direct_engine(sessions)
        self._lanes = 1 if writes_take_turns(sessions) else COMMITS_AT_ONCE
        self._attempts: dict[int, asyncio.Future[None]] = {}
        self._outcomes: dict[int, tuple[Outcome, Committed]] = {}
        self._commits: set[asyncio.Task[None]] = set()
        # What each lane sends its statements through, kept for the run once a lane first commits.
        self._throughs: list[AsyncEngine | AsyncConnection] = []
        self._kept = contextlib.AsyncExitStack()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OutcomeRecorder]:
        async with self._kept:
            try:
                yield self
            finally:
                while self._commits:
                    await asyncio.gather(*self._commits, return_exceptions=True)

    async def attempt(self, reminder_id: int) -> None:
        """Stamp the reminder as going out now; returns once that is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._attempts[reminder_id] = future
        self._start_commit()
        await future

    def record(self, reminder_id: int, outcome: Outcome, committed: Committed) -> None:
        """Store how the reminder ended; ``committed`` is called with ``None`` once that is
        committed, or with the error that kept it from being committed."""
        self._outcomes[reminder_id] = (outcome, committed)
        self._start_commit()

    def _start_commit(self) -> None:
        if len(self._commits) < self._lanes:
            commit = asyncio.create_task(self._commit_while_waiting())
            self._commits.add(commit)
            commit.add_done_callback(self._commits.discard)

    async def _commit_while_waiting(self) -> None:
        through: AsyncEngine | AsyncConnection | None = None
        try:
            if self._engine is not None:
                through = await self._lane_through(self._engine)
            while self._attempts or self._outcomes:
                attempts, self._attempts = self._attempts, {}
                outcomes, self._outcomes = self._outcomes, {}
                await self._commit(through, attempts, outcomes)
        except Exception as error:  # no connection for this lane: what waits fails, and says so
            attempts, self._attempts = self._attempts, {}
            outcomes, self._outcomes = self._outcomes, {}
            self._failed(error, attempts, outcomes)
        finally:
            if through is not None:
                self._throughs.append(through)

    async def _lane_through(self, engine: AsyncEngine) -> AsyncEngine | AsyncConnection:
        if self._throughs:
            return self._throughs.pop()
        return await self._kept.enter_async_context(kept_for_a_run(engine))

    @staticmethod
    def _failed(
        error: Exception,
        attempts: dict[int, asyncio.Future[None]],
        outcomes: dict[int, tuple[Outcome, Committed]],
    ) -> None:
        for future in attempts.values():
            if not future.done():
                future.set_exception(error)
        for _, committed in outcomes.values():
            committed(error)

    async def _commit(
        self,
        through: AsyncEngine | AsyncConnection | None,
        attempts: dict[int, asyncio.Future[None]],
        outcomes: dict[int, tuple[Outcome, Committed]],
    ) -> None:
        ended = {reminder_id: outcome for reminder_id, (outcome, _) in outcomes.items()}
        try:
            now = self._clock()
            if self._engine is not None and through is not None:  # one statement alone
                async with write_turn(self._engine):
                    await reminders.record_progress(through, list(attempts), ended, now)
            else:
                async with session_scope(self._sessions) as session:
                    await reminders.record_progress(session, list(attempts), ended, now)
        except Exception as error:  # each sender sees the failure of its own write
            self._failed(error, attempts, outcomes)
        else:
            for future in attempts.values():
                if not future.done():
                    future.set_result(None)
            for _, committed in outcomes.values():
                committed(None)


class _Run:
    """One run of the dispatcher: :data:`SENDERS_PER_WINDOW` senders per window take claimed
    reminders from a queue, which is refilled while it still holds a window's worth, so a sender
    never waits for a claim; at most :data:`WINDOW` of them have a message in flight."""

    def __init__(
        self,
        context: BotContext,
        recorder: OutcomeRecorder,
        engine: AsyncEngine | None,
        through: AsyncEngine | AsyncConnection | None,
    ) -> None:
        self.context = context
        self.recorder = recorder
        runtime = context.runtime
        self.engine = engine  # None: the driver cannot be used alone; claims in a unit of work
        self.through = through
        self.texts = Texts(runtime.default_language, runtime.zone)
        self.views: dict[int, AppointmentView] = {}  # for the advisors' outcome questions
        self.queue: asyncio.Queue[DueReminder | None] = asyncio.Queue()
        self.held = 0  # claimed, outcome not yet committed
        self.room = asyncio.Event()  # set when the claimer waits and may claim again
        self.sent = 0
        self.window = WINDOW
        self.senders = SENDERS_PER_WINDOW * WINDOW
        self.claimed_at_most = self.senders + QUEUED_WINDOWS * WINDOW
        self.in_flight = asyncio.Semaphore(WINDOW)
        self.chats: dict[int, asyncio.Lock] = {}
        self.last_sent: dict[int, float] = {}

    async def claim(self) -> int:
        """Claim as many due reminders as there is room for, once the queue runs low, and queue
        them; how many (0: nothing due)."""
        while not self._may_claim():
            self.room.clear()
            await self.room.wait()
        room = self.claimed_at_most - self.held
        runtime = self.context.runtime
        now = self.context.now()
        if self.engine is not None and self.through is not None:  # each statement alone
            async with write_turn(self.engine):
                claimed = await reminders.claim_due(self.through, now, room)
            loaded = await reminders.load_claimed(self.through, claimed) if claimed else []
        else:
            async with session_scope(runtime.sessions) as session:  # one short transaction
                claimed = await reminders.claim_due(session, now, room)
                loaded = await reminders.load_claimed(session, claimed) if claimed else []
        questions = [due.appointment_id for due in loaded if due.kind == reminders.OUTCOME]
        if questions:
            async with read_scope(runtime.sessions) as session:
                self.views.update(await load_views(session, questions, runtime.municipality))
        # A reminder whose appointment was deleted meanwhile is gone with it.
        self.held += len(loaded)
        for due in loaded:
            self.queue.put_nowait(due)
        return len(claimed)

    async def sender(self) -> None:
        """Send queued reminders one after another until the queue says there are no more."""
        while (due := await self.queue.get()) is not None:
            self._wake_claimer()
            try:
                outcome = await self._deliver(due)
            except Exception:
                log.exception("reminder %s: outcome not recorded; it is resent after a while", due.id)
                self._release()
                continue
            self.recorder.record(due.id, outcome, lambda error, due=due: self._committed(due, error))

    def stop_senders(self) -> None:
        for _ in range(self.senders):
            self.queue.put_nowait(None)

    def _committed(self, due: DueReminder, error: BaseException | None) -> None:
        if error is not None:
            log.error("reminder %s: outcome not recorded; it is resent after a while", due.id, exc_info=error)
        self._release()

    def _release(self) -> None:
        self.held -= 1
        self._wake_claimer()

    def _may_claim(self) -> bool:
        return self.queue.qsize() < self.window and self.held < self.claimed_at_most

    def _wake_claimer(self) -> None:
        """Wake the claimer only when it may claim: not for every reminder taken or finished."""
        if not self.room.is_set() and self._may_claim():
            self.room.set()

    async def _deliver(self, due: DueReminder) -> Outcome:
        """Send the reminder if it is still true, in its chat's turn; how it ended (recorded by the
        sender without waiting for the commit: the next send need not wait for it, the next claim
        does)."""
        runtime = self.context.runtime
        view = self.views.pop(due.appointment_id, None) if due.kind == reminders.OUTCOME else None
        if not reminders.still_true(due, self.context.now(), runtime.zone):
            return Outcome.DROPPED
        outcome = await self._in_turn(due, view)
        self.sent += outcome == Outcome.SENT
        return outcome

    async def _in_turn(self, due: DueReminder, view: AppointmentView | None) -> Outcome:
        """One message per chat at a time, and at least a second after the previous one ended."""
        chat = due.chat or 0
        lock = self.chats.get(chat)
        if lock is None:
            lock = self.chats[chat] = asyncio.Lock()
        async with lock:
            wait = self.last_sent.get(chat, -SAME_CHAT_SPACING) + SAME_CHAT_SPACING - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            in_flight = False

            async def going_out() -> None:
                nonlocal in_flight
                await self.recorder.attempt(due.id)
                if not in_flight:  # the rate limiter announces again after a 429
                    await self.in_flight.acquire()
                    in_flight = True

            try:
                return await _send_one(self.context, self.texts, due, view, going_out)
            finally:
                if in_flight:
                    self.in_flight.release()
                self.last_sent[chat] = time.monotonic()


async def dispatch_reminders(context: BotContext) -> int:
    """Job: release what a crashed process left, then keep the senders busy while reminders are
    due (a backlog after downtime), within a time budget so one run never overlaps the next.
    Returns how many messages went out."""
    runtime = context.runtime
    started = time.monotonic()
    async with session_scope(runtime.sessions) as session:
        resent, dropped = await reminders.release_stuck(session, context.now())
    if resent or dropped:
        log.warning("reminders left by a stopped dispatcher: %s due again, %s dropped", resent, dropped)
    direct = direct_engine(runtime.sessions)
    async with contextlib.AsyncExitStack() as kept:
        through = await kept.enter_async_context(kept_for_a_run(direct)) if direct is not None else None
        recorder = await kept.enter_async_context(OutcomeRecorder(runtime.sessions, context.now).running())
        run = _Run(context, recorder, direct, through)
        senders = [asyncio.create_task(run.sender()) for _ in range(run.senders)]
        try:
            while time.monotonic() - started < RUN_BUDGET_SECONDS:
                if not await run.claim():
                    break
        finally:
            run.stop_senders()
            await asyncio.gather(*senders)
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
