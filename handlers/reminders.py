"""Job callbacks that send what is due: appointment reminders, advisors' outcome questions, and
waiting-list offers. The database decides what is due (``storage.reminders``); this module only
turns claimed rows into messages.

The dispatcher claims due reminders into a queue, refilled while it still holds less than
:data:`QUEUED_WINDOWS` windows' worth, so nobody waits for a claim (each claim and its texts' data
are one statement each). With the rate limiter lifted (a backlog is sent as fast as Telegram
answers), one stamper takes them from the queue in groups: those whose text is no longer true are
recorded as dropped, the others are stamped "going out" in one statement, committed, and handed to
the senders. The stamper does not wait for one group's commit before it takes the next: up to
:data:`STAMPED_WINDOWS` windows are stamped (or being stamped) and waiting for a sender, and the
next group is taken whenever half a window has room. Under a backlog every database answer waits
two turns of the event loop, each up to tens of milliseconds while answers from Telegram are
handled, so a stamp's commit takes tens of milliseconds, over 100 at times (measured on a 2-core
machine): with a single window stamped ahead the senders ran dry. More stamped ahead has a price: a crash
leaves them in doubt like those in flight (see ``storage.reminders``).
:data:`WINDOW` senders send one message at a time each: at most :data:`WINDOW` messages are
between their send and Telegram's answer. One chat gets one message at a time, at least a second
apart. With the production rate limiter (Telegram's ~30 messages/s overall), the senders take from
the queue themselves and each reminder is stamped when the limiter lets its request through, not
while it still waits its turn.

One recorder writes the stamps before the sends and the outcomes after them. Each of its commits
takes whatever has arrived meanwhile, in one statement. A crash can repeat only the reminders in
flight at that instant, once (see ``storage.reminders``). Those stamped but still waiting for a
sender or for their chat's turn were never sent: they are sent once more, as they should be. Those
claimed and not yet stamped simply become due again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import partial

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
# With the limiter lifted, stamped (or being stamped) and waiting for a sender, at most this many
# windows: enough for the senders to go on while a stamp's commit waits for the event loop.
STAMPED_WINDOWS = 3
# Claimed and not yet stamped: the claimer claims again while fewer than this many windows are
# queued (with a limiter that announces, one window: the limiter sets the pace).
QUEUED_WINDOWS = 3
SAME_CHAT_SPACING = 1.0
# Commits under way at once; SQLite writes one at a time anyway, and a second commit waiting for
# its turn would only make both smaller.
COMMITS_AT_ONCE = 2
JOB_ID = "reminder-dispatcher"
# Called with reminders whose outcomes were committed, and the error if that failed.
Committed = Callable[[Sequence[int], BaseException | None], None]
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
    """Writes what happens to claimed reminders as it happens: :meth:`attempt` returns once a group
    of reminders is stamped as going out; :meth:`record` stores one reminder's outcome, and
    ``committed`` is called with the ids of the outcomes once they are committed (or have failed).
    Each commit takes everything that arrived meanwhile, in one statement: the first arrival starts
    a commit, and what arrives while it is under way goes in the next one, which starts as soon as
    it ends (no waiting for a writer to wake up). Sent straight through the driver where it allows
    (``storage.driver_calls``), else in a short unit of work. On PostgreSQL two commits may be
    under way at once, so the stamps waiting for one need not wait for the other's round trip.
    They never touch the same reminder: its outcome arrives only after its stamp is committed."""

    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime], committed: Committed) -> None:
        self._sessions = sessions
        self._clock = clock
        self._committed = committed
        self._engine = direct_engine(sessions)
        self._lanes = 1 if writes_take_turns(sessions) else COMMITS_AT_ONCE
        self._attempts: list[tuple[Sequence[int], asyncio.Future[None]]] = []
        self._outcomes: dict[int, Outcome] = {}
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

    async def attempt(self, reminder_ids: Sequence[int]) -> None:
        """Stamp the reminders as going out now; returns once that is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._attempts.append((reminder_ids, future))
        self._start_commit()
        await future

    def record(self, reminder_id: int, outcome: Outcome) -> None:
        """Store how the reminder ended (``committed`` is called once that is committed, or has
        failed)."""
        self._outcomes[reminder_id] = outcome
        self._start_commit()

    def _start_commit(self) -> None:
        if len(self._commits) < self._lanes:
            self._commits.add(asyncio.create_task(self._commit_while_waiting()))

    async def _commit_while_waiting(self) -> None:
        through: AsyncEngine | AsyncConnection | None = None
        try:
            if self._engine is not None:
                through = await self._lane_through(self._engine)
            while self._attempts or self._outcomes:
                attempts, self._attempts = self._attempts, []
                outcomes, self._outcomes = self._outcomes, {}
                await self._commit(through, attempts, outcomes)
        except Exception as error:  # no connection for this lane: what waits fails, and says so
            attempts, self._attempts = self._attempts, []
            outcomes, self._outcomes = self._outcomes, {}
            self._failed(error, attempts, outcomes)
        finally:
            if through is not None:
                self._throughs.append(through)
            # Out of the set as soon as it has found nothing more to commit, not in a done callback
            # run later: what arrives in between would find every lane taken and wait forever.
            if (task := asyncio.current_task()) is not None:
                self._commits.discard(task)

    async def _lane_through(self, engine: AsyncEngine) -> AsyncEngine | AsyncConnection:
        if self._throughs:
            return self._throughs.pop()
        return await self._kept.enter_async_context(kept_for_a_run(engine))

    def _failed(
        self,
        error: Exception,
        attempts: list[tuple[Sequence[int], asyncio.Future[None]]],
        outcomes: dict[int, Outcome],
    ) -> None:
        for _, future in attempts:
            if not future.done():
                future.set_exception(error)
        if outcomes:
            self._committed(list(outcomes), error)

    async def _commit(
        self,
        through: AsyncEngine | AsyncConnection | None,
        attempts: list[tuple[Sequence[int], asyncio.Future[None]]],
        outcomes: dict[int, Outcome],
    ) -> None:
        stamped = [reminder_id for group, _ in attempts for reminder_id in group]
        try:
            now = self._clock()
            if self._engine is not None and through is not None:  # one statement alone
                async with write_turn(self._engine):
                    await reminders.record_progress(through, stamped, outcomes, now)
            else:
                async with session_scope(self._sessions) as session:
                    await reminders.record_progress(session, stamped, outcomes, now)
        except Exception as error:  # each waiting sender sees the failure of its own write
            self._failed(error, attempts, outcomes)
        else:
            for _, future in attempts:
                if not future.done():
                    future.set_result(None)
            if outcomes:
                self._committed(list(outcomes), None)


class _Run:
    """One run of the dispatcher. The claimer queues claimed reminders, refilling the queue while
    it holds less than :data:`QUEUED_WINDOWS` windows. With the rate limiter lifted, one stamper
    takes them from the queue in groups, drops those no longer to be sent, and stamps the rest in
    one statement, handing them on once committed; it goes on taking groups meanwhile, keeping at
    most :data:`STAMPED_WINDOWS` windows stamped or being stamped and waiting for a sender.
    :data:`WINDOW` senders send one message at a time each, so at most :data:`WINDOW` are in
    flight. With a limiter that announces (production), the senders take from the queue themselves
    and each reminder is stamped when the limiter lets its request through."""

    def __init__(
        self,
        context: BotContext,
        engine: AsyncEngine | None,
        through: AsyncEngine | AsyncConnection | None,
    ) -> None:
        self.context = context
        runtime = context.runtime
        self.engine = engine  # None: the driver cannot be used alone; claims in a unit of work
        self.through = through
        self.recorder = OutcomeRecorder(runtime.sessions, context.now, self._committed)
        self.texts = Texts(runtime.default_language, runtime.zone)
        self.place = default_place(runtime.municipality)
        self.views: dict[int, AppointmentView] = {}  # for the advisors' outcome questions
        self.announces: bool = getattr(context.bot.rate_limiter, "announces", False)
        self.queue: asyncio.Queue[DueReminder | None] = asyncio.Queue()  # claimed
        # Stamped and waiting for a sender; without a stamper, the claimed queue itself.
        self.ready: asyncio.Queue[DueReminder | None] = self.queue if self.announces else asyncio.Queue()
        self.ready_low = asyncio.Event()  # set when the stamper waits and may stamp again
        self.held = 0  # claimed, outcome not yet committed
        self.room = asyncio.Event()  # set when the claimer waits and may claim again
        self.stamping = 0  # handed to the recorder, stamp not yet committed
        self.stamping_groups: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.window = WINDOW
        self.senders = WINDOW
        self.stamped_at_most = STAMPED_WINDOWS * WINDOW
        if self.announces:  # the limiter sets the pace: a window queued is plenty
            self.queued_below = WINDOW
            self.claimed_at_most = 4 * WINDOW
        else:
            self.queued_below = QUEUED_WINDOWS * WINDOW
            # One window in flight, the stamped windows, the queued ones, and as many again claimed
            # in one go or waiting for their outcomes' commit.
            self.claimed_at_most = (1 + STAMPED_WINDOWS + 2 * QUEUED_WINDOWS) * WINDOW
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

    def stop(self) -> None:
        """No more claims: the stamper and senders end once the queue is empty."""
        for _ in range(1 if not self.announces else self.senders):
            self.queue.put_nowait(None)

    async def stamper(self) -> None:
        """With the limiter lifted: take claimed reminders in groups, record those that are not to
        be sent, and have the others stamped as going out in one statement, handed to the senders
        once committed (:meth:`_stamp`); never more than :data:`STAMPED_WINDOWS` windows stamped
        or being stamped and waiting for a sender."""
        more = True
        try:
            while more:
                while not self._may_stamp():  # stamp in groups, not one for each message taken
                    self.ready_low.clear()
                    await self.ready_low.wait()
                group = [await self.queue.get()]
                room = self.stamped_at_most - self.ready.qsize() - self.stamping
                while len(group) < room and group[-1] is not None and not self.queue.empty():
                    group.append(self.queue.get_nowait())
                self._wake_claimer()
                if group[-1] is None:
                    group.pop()
                    more = False
                going = [due for due in group if self._to_send(due)]
                if going:
                    self.stamping += len(going)
                    stamp = asyncio.create_task(self._stamp(going))
                    self.stamping_groups.add(stamp)
                    stamp.add_done_callback(self.stamping_groups.discard)
        finally:  # the senders end even if the stamper failed, after the groups being stamped
            while self.stamping_groups:
                await asyncio.gather(*self.stamping_groups, return_exceptions=True)
            for _ in range(self.senders):
                self.ready.put_nowait(None)

    async def _stamp(self, going: Sequence[DueReminder]) -> None:
        """Stamp a group as going out; once committed, hand it to the senders."""
        try:
            await self.recorder.attempt([due.id for due in going])
        except Exception:
            log.exception("%s reminders not stamped; they are due again after a while", len(going))
            self._release(len(going))
        else:
            for due in going:
                self.ready.put_nowait(due)
        finally:
            self.stamping -= len(going)
            self._wake_stamper()

    async def sender(self) -> None:
        """Send reminders one after another until told there are no more. The outcome is recorded
        without waiting for its commit: the next send need not wait for it, the next claim does."""
        while (due := await self.ready.get()) is not None:
            if self.announces:
                self._wake_claimer()
                if not self._to_send(due):
                    continue
            else:
                self._wake_stamper()
            try:
                outcome = await self._in_turn(due)
            except Exception:
                log.exception("reminder %s: outcome not recorded; it is resent after a while", due.id)
                self._release(1)
                continue
            if outcome is Outcome.SENT:
                self.sent += 1
            self.recorder.record(due.id, outcome)

    async def _in_turn(self, due: DueReminder) -> Outcome:
        """Send the reminder in its chat's turn: one message per chat at a time, and at least a
        second after the previous one ended. How it ended, as Telegram answered."""
        chat = due.chat or 0
        lock = self.chats.get(chat)
        if lock is None:
            lock = self.chats[chat] = asyncio.Lock()
        try:
            async with lock:
                wait = self.last_sent.get(chat, -SAME_CHAT_SPACING) + SAME_CHAT_SPACING - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    return await self._send(due, chat)
                finally:
                    self.last_sent[chat] = time.monotonic()
        except Forbidden:
            await _person_unreachable(self.context, due)
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

    async def _send(self, due: DueReminder, chat: int) -> Outcome:
        """The message itself: the reminder, or an advisor's outcome question. With a limiter that
        announces, the reminder is stamped when the limiter lets the request through."""
        context = self.context
        if due.kind == reminders.OUTCOME:
            if self.announces:
                await self.recorder.attempt((due.id,))
            sent = await advisor.send_outcome_prompt(context, self.views.pop(due.appointment_id))
            return Outcome.SENT if sent else Outcome.FAILED
        text, keyboard = self.texts.reminder(due, due.place or self.place)
        stamp = partial(self.recorder.attempt, (due.id,)) if self.announces else None
        await context.bot.send_message(chat, text, reply_markup=keyboard, rate_limit_args=stamp)
        return Outcome.SENT

    def _to_send(self, due: DueReminder) -> bool:
        """Whether the reminder is to be sent; if not, how it ended is recorded (see
        :meth:`_unsent`)."""
        try:
            outcome = self._unsent(due)
        except Exception:
            log.exception("reminder %s: outcome not recorded; it is resent after a while", due.id)
            self._release(1)
            return False
        if outcome is None:
            return True
        self.recorder.record(due.id, outcome)
        return False

    def _unsent(self, due: DueReminder) -> Outcome | None:
        """How the reminder ends without being sent, or ``None`` if it is to be sent: dropped if
        its text is no longer true (or an outcome question's appointment is gone), failed if
        there is nobody to send it to."""
        if not reminders.still_true(due, self.context.now(), self.context.runtime.zone):
            self.views.pop(due.appointment_id, None)
            return Outcome.DROPPED
        if due.kind == reminders.OUTCOME:
            return None if due.appointment_id in self.views else Outcome.DROPPED
        if due.chat is None or due.blocked:
            return Outcome.FAILED
        return None

    def _committed(self, reminder_ids: Sequence[int], error: BaseException | None) -> None:
        if error is not None:
            log.error(
                "reminders %s: outcome not recorded; they are resent after a while",
                reminder_ids,
                exc_info=error,
            )
        self._release(len(reminder_ids))

    def _release(self, count: int) -> None:
        self.held -= count
        self._wake_claimer()

    def _may_stamp(self) -> bool:
        """Room for half a window more stamped (or being stamped) and waiting for a sender: the
        next group may be taken."""
        return self.ready.qsize() + self.stamping <= self.stamped_at_most - self.window // 2

    def _wake_stamper(self) -> None:
        if not self.ready_low.is_set() and self._may_stamp():
            self.ready_low.set()

    def _may_claim(self) -> bool:
        return self.queue.qsize() < self.queued_below and self.held < self.claimed_at_most

    def _wake_claimer(self) -> None:
        """Wake the claimer only when it may claim: not for every reminder taken or finished."""
        if not self.room.is_set() and self._may_claim():
            self.room.set()


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
        run = _Run(context, direct, through)
        await kept.enter_async_context(run.recorder.running())
        workers = [asyncio.create_task(run.sender()) for _ in range(run.senders)]
        if not run.announces:
            workers.append(asyncio.create_task(run.stamper()))
        try:
            while time.monotonic() - started < RUN_BUDGET_SECONDS:
                if not await run.claim():
                    break
        finally:
            run.stop()
            await asyncio.gather(*workers)
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
