"""Reminder benchmark: the dispatcher's throughput, its send rate under the rate limiter, and
start-up with many stored reminders.

Run from the project root::

    .venv/bin/python -m benchmarks.bench_reminders [--database-url URL]

Three parts, each on a fresh database (a SQLite file in a temp dir, or a throwaway PostgreSQL
schema) and against its own bot world in one sandbox on 127.0.0.1:

1. 10,000 due reminders for 10,000 people, the rate limiter lifted: the real Application's
   ``reminder-dispatcher`` job is run again and again (clock fixed at "now") until nothing is
   pending. Every reminder must arrive once in the sandbox and be stored as ``sent``.
2. 600 due reminders for 600 people with the production limiter (PTB's ``AIORateLimiter``): the
   send rate, and the busiest second as the sandbox saw it, overall and per chat. Then 30 people
   with two due reminders each, to see the dispatcher's one-second spacing within a chat.
3. Start-up with 100,000 future reminders stored: building the Application and entering
   ``polling`` (initialise, migrations, command menus, jobs), and the first dispatcher run with
   nothing due — on the empty database first, then with the reminders.

Rows are inserted in bulk with SQLAlchemy Core, not through the booking journey.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import math
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy
import telegram
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from telegram.ext import Application, Job

from benchmarks._common import (
    LANGUAGES,
    RecordingChat,
    add_people,
    bench_settings,
    busiest_window,
    check_database_url,
    describe_database,
    engine_of,
    guard_loopback,
    machine_line,
    ms,
    percentile,
    running_sandbox,
    throwaway_schema,
    use_schema,
)
from bot.app import build_application, polling
from bot.config import Settings
from bot.sandbox import World, new_world
from handlers import reminders as reminder_jobs
from storage.booking import TOPICS
from storage.db import create_engine
from storage.migrate import upgrade_to_head
from storage.models import (
    AdvisorProfile,
    Appointment,
    AppointmentStatus,
    Case,
    Person,
    Reminder,
    ReminderStatus,
    Role,
)
from storage.reminders import BEFORE, OUTCOME

TOKENS = {
    "fast": "100000021:SANDBOX-bench-reminders-fast",
    "limited": "100000022:SANDBOX-bench-reminders-limited",
    "startup": "100000023:SANDBOX-bench-reminders-startup",
}
FIRST_IDS = {"fast": 60_000_001, "limited": 61_000_001, "same_chat": 62_000_001, "stored": 63_000_001}
FIRST_ADVISOR_ID = 69_000_001
ADVISORS = 20
SAME_CHAT_PEOPLE = 30
STARTS = 3  # start-ups timed in each state (part 3)
JOB_TIMEOUT = 300.0  # seconds one dispatcher run may take before the benchmark gives up


# ---- seeding ------------------------------------------------------------------------------------


def daytime_now() -> datetime:
    """The moment the bot's clock stands still at in parts 1 and 2: 10:00 today in the bot's time
    zone. Their "tomorrow" reminders are seeded for appointments just under 24 hours ahead; run near
    local midnight with the real time, most of those fell on today, and the bot rightly dropped
    reminders whose "tomorrow" was no longer true (the checks then failed)."""
    zone = ZoneInfo(Settings.model_fields["timezone"].default)
    return datetime.now(zone).replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)


async def insert_rows(connection: AsyncConnection, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in bulk with ids chosen here (an INSERT … RETURNING per row is far slower on
    SQLite); on PostgreSQL the table's id sequence is moved past them afterwards. Returns the ids."""
    table = model.__table__
    first = int(await connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    await connection.execute(insert(model), [{"id": id_, **row} for id_, row in zip(ids, rows, strict=True)])
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {ids[-1]})")
        )
    return ids


async def seed_advisors(engine: AsyncEngine, now: datetime) -> list[int]:
    """A few advisors with a place, so every reminder names a room as in production."""
    rows = [
        {
            "telegram_id": FIRST_ADVISOR_ID + index,
            "language": "de",
            "role": Role.ADVISOR.value,
            "staff_name": f"Beraterin {index + 1}",
            "first_seen": now - timedelta(days=90),
            "last_seen": now,
        }
        for index in range(ADVISORS)
    ]
    async with engine.begin() as connection:
        ids = await insert_rows(connection, Person, rows)
        await connection.execute(
            insert(AdvisorProfile),
            [
                {"person_id": advisor_id, "languages": ["de", "en"], "place": f"Rathaus, Zimmer {1 + n}"}
                for n, advisor_id in enumerate(ids)
            ],
        )
    return ids


async def seed_reminders(
    engine: AsyncEngine,
    now: datetime,
    advisors: Sequence[int],
    first_telegram_id: int,
    count: int,
    kinds: Sequence[str],
    starts_at: Callable[[int], datetime],
    per_person: int = 1,
) -> int:
    """``count`` pending reminders of ``kinds`` (in turn) on booked appointments, ``per_person``
    appointments for each person, each person with their own case; returns the number of reminders."""
    appointments = math.ceil(count / len(kinds))
    people = math.ceil(appointments / per_person)
    languages = [LANGUAGES[index % len(LANGUAGES)] for index in range(people)]
    async with engine.begin() as connection:
        person_ids = await insert_rows(
            connection,
            Person,
            [
                {
                    "telegram_id": first_telegram_id + index,
                    "language": languages[index],
                    "role": Role.REFUGEE.value,
                    "first_seen": now - timedelta(days=10),
                    "last_seen": now - timedelta(days=1),
                }
                for index in range(people)
            ],
        )
        case_ids = await insert_rows(
            connection,
            Case,
            [
                {
                    "number": f"B{first_telegram_id + index}",
                    "person_id": person_id,
                    "advisor_id": advisors[index % len(advisors)],
                    "first_name": f"Person {index + 1}",
                    "status": "new",
                    "opened_at": now - timedelta(days=3),
                    "language": languages[index],
                }
                for index, person_id in enumerate(person_ids)
            ],
        )
        rows = []
        for index in range(appointments):
            starts = starts_at(index)
            person_id, case_id = person_ids[index // per_person], case_ids[index // per_person]
            rows.append(
                {
                    "case_id": case_id,
                    "person_id": person_id,
                    "advisor_id": advisors[index // per_person % len(advisors)],
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=60),
                    "kind": "first",
                    "topic": TOPICS[index % len(TOPICS)],
                    "language": languages[index // per_person],
                    "interpreter": index % 3 == 0,
                    "status": AppointmentStatus.BOOKED.value,
                    "booked_at": now - timedelta(days=3),
                }
            )
        appointment_ids = await insert_rows(connection, Appointment, rows)
        reminders = [
            {
                "appointment_id": appointment_id,
                "kind": kind,
                "due_at": appointment["ends_at"]
                if kind == OUTCOME
                else appointment["starts_at"] - BEFORE[kind],
                "status": ReminderStatus.PENDING.value,
                "attempts": 0,
            }
            for appointment_id, appointment in zip(appointment_ids, rows, strict=True)
            for kind in kinds
        ][:count]
        await connection.execute(insert(Reminder), reminders)
    return len(reminders)


async def status_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
        return {status: number for status, number in rows.all()}


async def open_count(engine: AsyncEngine, now: datetime) -> int:
    """Due reminders not yet finished (pending, or claimed and still sending)."""
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(
                    Reminder.status.in_((ReminderStatus.PENDING, ReminderStatus.SENDING)),
                    Reminder.due_at <= now,
                )
            )
            or 0
        )


# ---- the sandbox side ---------------------------------------------------------------------------


def recording_people(world: World, person_ids: Sequence[int], arrivals: list[tuple[float, int]]) -> None:
    """People who pressed Start long ago (so the bot may write first), with recording chats; and
    the advisors, who are told when a person cannot be reminded."""
    add_people(world, person_ids, started=True)
    for person_id in person_ids:
        world.chats[person_id] = RecordingChat(person_id, arrivals)
    add_people(world, range(FIRST_ADVISOR_ID, FIRST_ADVISOR_ID + ADVISORS), started=True)


def bot_messages(world: World, person_ids: Sequence[int]) -> list[int]:
    """How many bot messages each of these people has in their chat."""
    return [sum(message.sender == "bot" for message in world.chats[pid]) for pid in person_ids]


def per_second(times: Sequence[float]) -> list[int]:
    """Arrivals in each whole second after the first arrival."""
    if not times:
        return []
    first = min(times)
    counts = [0] * (int(max(times) - first) + 1)
    for moment in times:
        counts[int(moment - first)] += 1
    return counts


# ---- the bot ------------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    schema: str | None
    engine: AsyncEngine


@asynccontextmanager
async def fresh_database(database_url: str | None, scratch: Path, name: str) -> AsyncIterator[Database]:
    """A new, migrated database for one part: a SQLite file, or a throwaway PostgreSQL schema."""
    async with contextlib.AsyncExitStack() as stack:
        schema = None
        if database_url is not None:
            schema, _version = await stack.enter_async_context(throwaway_schema(database_url))
            url = database_url
        else:
            url = f"sqlite+aiosqlite:///{scratch / f'{name}.sqlite3'}"
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        if schema is not None:
            use_schema(engine, schema)
        await upgrade_to_head(engine)
        yield Database(url, schema, engine)


@dataclass
class RunningBot:
    application: Application
    errors: list[BaseException] = field(default_factory=list)

    @property
    def dispatcher(self) -> Job:
        assert self.application.job_queue is not None
        (job,) = self.application.job_queue.get_jobs_by_name(reminder_jobs.JOB_ID)
        return job


def wegweiser(
    settings: Settings, database: Database, *, rate_limited: bool, clock: Callable[[], datetime] | None = None
) -> RunningBot:
    """The real Application, with its errors recorded (it logs them as well)."""
    extra = {} if clock is None else {"clock": clock}
    application = build_application(settings, rate_limited=rate_limited, **extra)
    if database.schema is not None:
        use_schema(engine_of(application), database.schema)
    bot = RunningBot(application)

    async def record_error(_update: object, context: Any) -> None:
        bot.errors.append(context.error)

    application.add_error_handler(record_error)
    return bot


@dataclass
class Drain:
    runs: list[float]
    wall: float
    cpu: float  # this process's CPU time (all threads: the bot, the sandbox, aiosqlite's thread)
    open_left: int


async def drain(bot: RunningBot, database: Database, expected: int, now: datetime) -> Drain:
    """Run the dispatcher job until nothing due is pending (or far more runs than needed)."""
    job = bot.dispatcher
    # A run keeps going while reminders are due, within its time budget.
    most_runs = 2 * math.ceil(expected / (reminder_jobs.RUN_BUDGET_SECONDS * 30)) + 3
    runs: list[float] = []
    left = expected
    started, cpu_started = time.perf_counter(), time.process_time()
    while left and len(runs) < most_runs:
        run_started = time.perf_counter()
        await asyncio.wait_for(job.run(bot.application), JOB_TIMEOUT)
        runs.append(time.perf_counter() - run_started)
        left = await open_count(database.engine, now)
    return Drain(runs, time.perf_counter() - started, time.process_time() - cpu_started, left)


# ---- the three parts ----------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def line(self, text_: str = "") -> None:
        print(text_, flush=True)

    def check(self, ok: bool, what: str) -> str:
        if not ok:
            self.problems.append(what)
        return "ok" if ok else "WRONG"


def runs_line(result: Drain) -> str:
    runs = result.runs
    return (
        f"{len(runs)} dispatcher runs (window of {reminder_jobs.WINDOW}): per run "
        f"p50 {ms(percentile(runs, 50))} ms, max {ms(max(runs, default=float('nan')))} ms"
    )


async def part_fast(
    args: argparse.Namespace, report: Report, world: World, api_url: str, scratch: Path
) -> None:
    count = args.due
    report.line(f"1. dispatcher throughput, rate limit lifted (rate_limited=False): {count} due reminders")
    now = daytime_now()  # the bot's clock stands still at this moment
    people = [FIRST_IDS["fast"] + index for index in range(count)]
    arrivals: list[tuple[float, int]] = []
    recording_people(world, people, arrivals)
    async with fresh_database(args.database_url, scratch, "fast") as database:
        started = time.perf_counter()
        advisors = await seed_advisors(database.engine, now)
        # Appointments tomorrow, within the last hour before 24 hours ahead: "before_24h" is due and true.
        seeded = await seed_reminders(
            database.engine,
            now,
            advisors,
            people[0],
            count,
            ("before_24h",),
            lambda index: now + timedelta(hours=24) - timedelta(minutes=index % 46),
        )
        report.line(
            f"   seeded {count} people, cases, appointments and {seeded} reminders "
            f"in {time.perf_counter() - started:.1f} s"
        )
        settings = bench_settings(
            TOKENS["fast"], api_url, scratch, database.url, reminder_interval_seconds=3600
        )
        bot = wegweiser(settings, database, rate_limited=False, clock=lambda: now)
        async with polling(bot.application):
            result = await drain(bot, database, count, now)
        statuses = await status_counts(database.engine)

    per_person = bot_messages(world, people)
    sent, arrived = statuses.get(ReminderStatus.SENT, 0), sum(per_person)
    report.line(
        f"   {result.wall:.2f} s for {count} reminders: {count / result.wall:.0f} reminders/s "
        f"({runs_line(result)})"
    )
    report.line(
        f"   CPU time of this process (bot + sandbox + driver threads) {result.cpu:.1f} s "
        f"= {100 * result.cpu / result.wall:.0f} % of one core, "
        f"{1000 * result.cpu / count:.1f} ms per reminder"
    )
    report.line(
        f"   sandbox: {arrived} bot messages, {sum(n == 1 for n in per_person)} chats with exactly one "
        f"[{report.check(arrived == count and min(per_person, default=0) == 1, 'part 1: messages')}]; "
        f"rows: {dict(sorted(statuses.items()))} "
        f"[{report.check(sent == count and result.open_left == 0, 'part 1: rows sent')}]"
    )
    if arrivals:
        times = [moment for moment, _ in arrivals]
        report.line(
            f"   arrival rate in the sandbox: {(len(times) - 1) / (max(times) - min(times) or 1):.0f}/s, "
            f"busiest second {busiest_window(times)} messages"
        )
    report.problems += [f"part 1: job error {error!r}" for error in bot.errors]
    report.line()


async def part_limited(
    args: argparse.Namespace, report: Report, world: World, api_url: str, scratch: Path
) -> None:
    count = args.limited
    report.line(
        f"2. send rate with the default limiter (rate_limited=True, AIORateLimiter): {count} due reminders"
    )
    now = daytime_now()  # the bot's clock stands still at this moment
    people = [FIRST_IDS["limited"] + index for index in range(count)]
    pairs = [FIRST_IDS["same_chat"] + index for index in range(SAME_CHAT_PEOPLE)]
    arrivals: list[tuple[float, int]] = []
    recording_people(world, people, arrivals)
    pair_arrivals: list[tuple[float, int]] = []
    recording_people(world, pairs, pair_arrivals)
    async with fresh_database(args.database_url, scratch, "limited") as database:
        advisors = await seed_advisors(database.engine, now)
        await seed_reminders(
            database.engine,
            now,
            advisors,
            people[0],
            count,
            ("before_24h",),
            lambda index: now + timedelta(hours=24) - timedelta(minutes=index % 46),
        )
        settings = bench_settings(
            TOKENS["limited"], api_url, scratch, database.url, reminder_interval_seconds=3600
        )
        bot = wegweiser(settings, database, rate_limited=True, clock=lambda: now)
        async with polling(bot.application):
            result = await drain(bot, database, count, now)
            statuses = await status_counts(database.engine)
            # Two reminders due for the same person: two appointments that start in about 2 hours.
            await seed_reminders(
                database.engine,
                now,
                advisors,
                pairs[0],
                2 * SAME_CHAT_PEOPLE,
                ("before_2h",),
                lambda index: now + timedelta(hours=2, minutes=-5 * (index % 2)),
                per_person=2,
            )
            pair_result = await drain(bot, database, 2 * SAME_CHAT_PEOPLE, now)
            pair_statuses = await status_counts(database.engine)

    per_person = bot_messages(world, people)
    times = [moment for moment, _ in arrivals]
    by_chat: dict[int, list[float]] = defaultdict(list)
    for moment, chat in arrivals:
        by_chat[chat].append(moment)
    seconds = per_second(times)
    span = (max(times) - min(times) if times else 0) or float("nan")
    report.line(
        f"   wall {result.wall:.2f} s: {count / result.wall:.1f} messages/s "
        f"(first to last arrival {span:.2f} s: {(len(times) - 1) / span:.1f}/s; {runs_line(result)})"
    )
    busiest = busiest_window(times)
    report.line(
        f"   busiest 1-s window (sliding) {busiest} messages; first second {seconds[0] if seconds else 0}, "
        f"median second {statistics.median(seconds) if seconds else 0:g}, "
        f"max whole second after the first {max(seconds[1:], default=0)}"
    )
    per_chat_max = max((busiest_window(moments) for moments in by_chat.values()), default=0)
    report.line(
        f"   max per chat per second {per_chat_max} [{report.check(per_chat_max <= 1, 'part 2: per chat')}] "
        "(one reminder per person here)"
    )
    arrived_ok = sum(per_person) == count and min(per_person, default=0) == 1
    report.line(
        f"   sandbox: {sum(per_person)} bot messages [{report.check(arrived_ok, 'part 2: messages')}]; "
        f"rows: {dict(sorted(statuses.items()))} "
        f"[{report.check(statuses.get(ReminderStatus.SENT, 0) == count, 'part 2: rows sent')}]"
    )
    pair_chats: dict[int, list[float]] = defaultdict(list)
    for moment, chat in pair_arrivals:
        pair_chats[chat].append(moment)
    gaps = [max(moments) - min(moments) for moments in pair_chats.values() if len(moments) == 2]
    pair_max = max((busiest_window(moments) for moments in pair_chats.values()), default=0)
    pair_ok = len(pair_arrivals) == 2 * SAME_CHAT_PEOPLE and len(gaps) == SAME_CHAT_PEOPLE
    pair_sent = pair_statuses.get(ReminderStatus.SENT, 0) - statuses.get(ReminderStatus.SENT, 0)
    report.line(
        f"   same chat: {SAME_CHAT_PEOPLE} people with 2 due reminders each, {pair_result.wall:.2f} s; "
        f"{len(pair_arrivals)} messages [{report.check(pair_ok, 'part 2: same-chat messages')}], "
        f"max per chat per second {pair_max} [{report.check(pair_max <= 1, 'part 2: same-chat spacing')}], "
        f"gap within a chat min {min(gaps, default=float('nan')):.2f} s, "
        f"max {max(gaps, default=float('nan')):.2f} s; "
        f"rows sent {pair_sent} [{report.check(pair_sent == 2 * SAME_CHAT_PEOPLE, 'part 2: same-chat rows')}]"
    )
    report.problems += [f"part 2: job error {error!r}" for error in bot.errors]
    report.line()


@dataclass
class StartUp:
    build: float
    enter: float
    first_run: float
    leave: float


async def start_up(settings: Settings, database: Database) -> tuple[StartUp, list[BaseException]]:
    """Build the Application, enter ``polling`` (ready), run the dispatcher once, leave."""
    gc.collect()  # a fresh process has no garbage from the earlier parts to collect
    started = time.perf_counter()
    bot = wegweiser(settings, database, rate_limited=True)
    built = time.perf_counter()
    async with polling(bot.application):
        entered = time.perf_counter()
        await asyncio.wait_for(bot.dispatcher.run(bot.application), JOB_TIMEOUT)
        ran = time.perf_counter()
    left = time.perf_counter()
    return StartUp(built - started, entered - built, ran - entered, left - ran), bot.errors


async def start_ups(settings: Settings, database: Database, errors: list[BaseException]) -> list[StartUp]:
    figures = []
    for _ in range(STARTS):
        one, more = await start_up(settings, database)
        figures.append(one)
        errors += more
    return figures


def start_up_row(label: str, figures: list[StartUp]) -> str:
    """Median of each column; ``(max)`` after ready (build + enter) and after the first run."""
    ready = [one.build + one.enter for one in figures]
    first_runs = [one.first_run for one in figures]
    cells = [
        statistics.median(one.build for one in figures),
        statistics.median(one.enter for one in figures),
        statistics.median(ready),
        max(ready),
        statistics.median(first_runs),
        max(first_runs),
        statistics.median(one.leave for one in figures),
    ]
    return f"   {label:<30}" + "".join(f"{ms(cell):>9}" for cell in cells)


async def part_startup(
    args: argparse.Namespace, report: Report, world: World, api_url: str, scratch: Path
) -> None:
    count = args.stored
    report.line(f"3. start-up with {count} future reminders stored (rate_limited=True, real clock)")
    now = datetime.now(UTC).replace(microsecond=0)
    async with fresh_database(args.database_url, scratch, "startup") as database:
        settings = bench_settings(
            TOKENS["startup"], api_url, scratch, database.url, reminder_interval_seconds=3600
        )
        errors: list[BaseException] = []
        empty = await start_ups(settings, database, errors)
        started = time.perf_counter()
        advisors = await seed_advisors(database.engine, now)
        # One appointment per person over the next 60 days, each with all three reminders.
        seeded = await seed_reminders(
            database.engine,
            now,
            advisors,
            FIRST_IDS["stored"],
            count,
            ("before_24h", "before_2h", OUTCOME),
            lambda index: now + timedelta(days=2) + timedelta(minutes=30) * (index % 2880),
        )
        seed_s = time.perf_counter() - started
        full = await start_ups(settings, database, errors)
        statuses = await status_counts(database.engine)

    report.line(f"   seeded {seeded} reminders on {math.ceil(count / 3)} appointments in {seed_s:.1f} s")
    report.line(
        f"   {f'ms, median of {STARTS} start-ups':<30}"
        + "".join(f"{name:>9}" for name in ("build", "enter", "ready", "(max)", "1st run", "(max)", "leave"))
    )
    report.line(start_up_row("empty database", empty))
    report.line(start_up_row(f"{seeded} reminders stored", full))
    pending = statuses.get(ReminderStatus.PENDING, 0)
    sent_any = sum(len(chat) for chat in world.chats.values()) + len(world.refusals)
    report.line(
        f"   rows still pending {pending} [{report.check(pending == seeded, 'part 3: rows')}], "
        f"messages sent {sent_any} [{report.check(sent_any == 0, 'part 3: nothing sent')}]"
    )
    report.problems += [f"part 3: job error {error!r}" for error in errors]
    report.line()


# ---- main ---------------------------------------------------------------------------------------


async def server_version(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return str((await connection.execute(text("SHOW server_version"))).scalar_one())
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> int:
    kind, shown_url = describe_database(args.database_url)
    print(
        f"Wegweiser reminder benchmark: {args.due} due reminders without rate limit, {args.limited} with "
        f"the default limiter, start-up with {args.stored} stored"
    )
    print(machine_line(("python-telegram-bot", telegram.__version__), ("SQLAlchemy", sqlalchemy.__version__)))
    if kind == "postgresql":
        version = await server_version(args.database_url)
        print(f"database: postgresql {version} — {shown_url}, a throwaway schema per part")
    else:
        print(f"database: sqlite {sqlite3.sqlite_version} — {shown_url}, a fresh file per part")

    report = Report()
    worlds = {name: new_world(token, f"reminders_{name}_bot") for name, token in TOKENS.items()}
    started = time.perf_counter()
    async with running_sandbox(*worlds.values()) as running:
        print(f"sandbox: {running.base_url} (in this process)", flush=True)
        print()
        with tempfile.TemporaryDirectory(prefix="wegweiser-bench-reminders-") as scratch:
            await part_fast(args, report, worlds["fast"], running.api_url, Path(scratch))
            await part_limited(args, report, worlds["limited"], running.api_url, Path(scratch))
            await part_startup(args, report, worlds["startup"], running.api_url, Path(scratch))
    print(f"whole run {time.perf_counter() - started:.0f} s")

    for world in worlds.values():
        report.problems += [f"Bot API refused {method}: {reason}" for method, reason in world.refusals]
    stray = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if stray:
        report.problems.append(f"{len(stray)} tasks still running: {stray[:3]!r}")
    for line in report.problems[:20]:
        print(f"PROBLEM {line}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"PROBLEM … and {len(report.problems) - 20} more", file=sys.stderr)
    return 1 if report.problems else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_reminders",
        description="Reminder dispatcher throughput, send rate and start-up (nothing leaves 127.0.0.1).",
    )
    parser.add_argument("--due", type=int, default=10_000, help="due reminders, no rate limit (10000)")
    parser.add_argument("--limited", type=int, default=600, help="due reminders, default limiter (600)")
    parser.add_argument("--stored", type=int, default=100_000, help="future reminders at start-up (100000)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL on this machine, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test "
        "(a throwaway schema per part is created and dropped); default: fresh SQLite files in a temp dir",
    )
    args = parser.parse_args(argv)
    if args.due < 1 or args.limited < 1 or args.stored < 1:
        parser.error("--due, --limited and --stored must be at least 1")
    check_database_url(parser, args.database_url)
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a postgresql URL (leave it out for SQLite)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    guard_loopback()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
