"""Wegweiser as it runs in production: its own process (``benchmarks._bot_process``, which builds the
Application as ``wegweiser run`` does, desk included), talking HTTP to the Bot API stand-in served by
this process, which also plays the people. One run prints:

- start-up: from spawning the process to its first ``getUpdates``, beside a bare echo bot's and
  the required libraries imported alone (about as fast as this machine can start any bot on this
  stack); RSS when idle;
- throughput against a bare default python-telegram-bot echo bot on the same stand-in (runs
  alternated, limiter lifted): updates/s, p50/p95, CPU ms and SQL statements per update, ratio;
- light load with the production limiter (5 people, one message a second each): p50/p95;
- the reminder dispatcher (limiter lifted): reminders/s beside a send-only floor of the same run
  (the same transport sending the same number of messages, nothing else), CPU and SQL per reminder;
- RSS with 5,000 offers after searches, and with 100,000 stored reminders.

    .venv/bin/python -m benchmarks.bench_production                      # SQLite
    .venv/bin/python -m benchmarks.bench_production \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test   # PostgreSQL (a throwaway database)

``--profile DIR`` writes a cProfile profile of each Wegweiser process (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from benchmarks._common import (
    add_people,
    check_database_url,
    guard_loopback,
    machine_line,
    ms,
    percentile,
)
from benchmarks.bench_foundation import STEPS, echo_scenario, run_round, send, wegweiser_scenario
from benchmarks.bench_offers import generate, write_directory
from benchmarks.bench_reminders import recording_people, seed_advisors, seed_reminders
from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve
from bot.sandbox import server as sandbox_server
from storage import offer_files
from storage.crypto import new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head

ROOT = Path(__file__).resolve().parent.parent
FIRST_PERSON = 70_000_001
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SEARCHES = ("Deutschkurs", "Arzt", "Fußball", "курс німецької", "Almanca kursu", "Kita", "Wohnung", "ሓኪም")


# ---- the stand-in: when each bot polls first --------------------------------------------------


class FirstPolls:
    """Notes when each bot token first calls getUpdates after being armed."""

    def __init__(self) -> None:
        self.seen: dict[str, asyncio.Future[float]] = {}
        original = sandbox_server.METHODS["getupdates"]

        async def noted(world: World, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
            future = self.seen.get(world.token)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
            return await original(world, params, uploads)

        sandbox_server.METHODS["getupdates"] = noted

    def arm(self, token: str) -> asyncio.Future[float]:
        self.seen[token] = asyncio.get_running_loop().create_future()
        return self.seen[token]


# ---- a bot process ------------------------------------------------------------------------------


def compile_bytecode(root: Path = ROOT) -> None:
    """Bytecode for Wegweiser's own modules, as ``pip install`` writes it for an installed Wegweiser:
    from an editable checkout with ``PYTHONDONTWRITEBYTECODE`` set (as on the shared machine), every
    bot process would compile its ~110 modules from source at each start (~0.1 s), which an installed
    Wegweiser never does, and which the echo bot's libraries are spared too."""
    for package in ("bot", "handlers", "storage", "locales", "desk"):
        compileall.compile_dir(root / package, quiet=1)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Pauses:
    """The cycle collector's pauses in a process (``_bot_process.CollectorPauses``), or between two
    readings of them."""

    count: int
    seconds: float
    long: list[tuple[int, float]]  # (number of the pause, ms) of each long pause

    def since(self, earlier: Pauses) -> Pauses:
        later = [(number, ms) for number, ms in self.long if number > earlier.count]
        return Pauses(self.count - earlier.count, self.seconds - earlier.seconds, later)

    @property
    def longest_ms(self) -> float:
        return max((ms for _, ms in self.long), default=0.0)


@dataclass(frozen=True)
class Counted:
    statements: int
    pauses: Pauses

    @staticmethod
    def read(figures: dict[str, Any]) -> Counted:
        gc = figures["gc"]
        return Counted(
            int(figures.get("statements", 0)),
            Pauses(gc["count"], gc["seconds"], [(number, ms) for number, ms in gc["long"]]),
        )


@dataclass
class Child:
    """A bot process: its CPU time, memory and SQL statements, read from outside."""

    process: subprocess.Popen[bytes]
    stats: Path
    started: float
    ready: float = 0.0
    ready_cpu: float = 0.0  # CPU seconds the process had used when its first getUpdates arrived

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    async def settled(self, quiet_cpu: float = 0.01, every: float = 0.5, limit: float = 120.0) -> None:
        """Wait until the process is idle: less than ``quiet_cpu`` seconds of CPU in ``every``
        seconds (its background work, such as building the search index, is done)."""
        deadline = time.monotonic() + limit
        before = self.cpu()
        while time.monotonic() < deadline:
            await asyncio.sleep(every)
            now = self.cpu()
            if now - before < quiet_cpu:
                return
            before = now

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def counted(self) -> Counted:
        """The SQL statements and collector pauses of the process so far."""
        before = self.stats.stat().st_mtime_ns if self.stats.exists() else 0
        self.process.send_signal(signal.SIGUSR1)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if self.stats.exists() and self.stats.stat().st_mtime_ns != before:
                return Counted.read(json.loads(self.stats.read_text()))
        return Counted(-1, Pauses(-1, float("nan"), []))

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            await asyncio.get_running_loop().run_in_executor(None, self.process.wait, 20)


@dataclass
class Lab:
    """The stand-in, the scratch directory and the database every bot process of a run shares."""

    running: RunningSandbox
    polls: FirstPolls
    scratch: Path
    database_url: str
    profile_dir: Path | None
    case_key: str = field(default_factory=new_key)
    audit_key: str = field(default_factory=new_key)
    spawned: int = 0

    async def spawn(self, kind: str, world: World, *options: str, **settings: str) -> Child:
        """Start a bot process and wait for its first getUpdates (a floor process is not waited for)."""
        self.spawned += 1
        stats = self.scratch / f"stats-{self.spawned}.json"
        arguments = [sys.executable, "-m", "benchmarks._bot_process", kind, "--stats", str(stats), *options]
        if self.profile_dir is not None and kind == "wegweiser":
            arguments += ["--profile", str(self.profile_dir / f"wegweiser-{self.spawned}.prof")]
        env = {
            **os.environ,
            "WEGWEISER_TELEGRAM_TOKEN": world.token,
            "WEGWEISER_TELEGRAM_API_URL": self.running.api_url,
            "WEGWEISER_DATABASE_URL": self.database_url,
            "WEGWEISER_DATA_DIR": str(self.scratch),
            "WEGWEISER_CASE_DATA_KEY": self.case_key,
            "WEGWEISER_AUDIT_KEY": self.audit_key,
            "WEGWEISER_LOG_LEVEL": "WARNING",
            "WEGWEISER_DESK_PORT": str(free_port()),
            # Not the default port: a bot of another benchmark on this machine may hold it.
            "WEGWEISER_METRICS_PORT": str(free_port()),
            "NO_PROXY": "127.0.0.1,localhost,::1",
            **{f"WEGWEISER_{name.upper()}": value for name, value in settings.items()},
        }
        first_poll = self.polls.arm(world.token)
        log = (self.scratch / f"bot-{self.spawned}.log").open("ab")
        started = time.perf_counter()
        process = subprocess.Popen(arguments, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        child = Child(process, stats, started)
        if kind != "floor":
            try:
                child.ready = await asyncio.wait_for(first_poll, 120) - started
            except TimeoutError:
                await child.stop()
                tail = (self.scratch / f"bot-{self.spawned}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {kind} process never polled; its log ends:\n{tail}") from None
            child.ready_cpu = child.cpu()
        return child


# ---- databases ----------------------------------------------------------------------------------


@asynccontextmanager
async def fresh_database(base_url: str | None, scratch: Path, name: str) -> AsyncIterator[str]:
    """A new, migrated database: a SQLite file, or a throwaway PostgreSQL database."""
    if base_url is None:
        url = f"sqlite+aiosqlite:///{scratch / (name + '.sqlite3')}"
        await migrate(url)
        yield url
        return
    admin = make_url(base_url)
    database = f"bench_{name}_{secrets.token_hex(3)}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    await connection.execute(f'CREATE DATABASE "{database}"')
    await connection.close()
    url = admin.set(database=database).render_as_string(hide_password=False)
    try:
        await migrate(url)
        yield url
    finally:
        connection = await asyncpg.connect(dsn)
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.close()


async def migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()


# ---- the parts ----------------------------------------------------------------------------------


@dataclass
class Throughput:
    name: str
    updates: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    statements: int = 0
    pauses: Pauses | None = None
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.wall if self.wall else 0.0


async def closed_loop(lab: Lab, kind: str, world: World, people: Sequence[int], rounds: int) -> Throughput:
    """Every person: /start, /help, a tap — each waiting for the last reaction; a warm-up round first."""
    scenario = wegweiser_scenario(world) if kind == "wegweiser" else echo_scenario(world)
    options = ("--no-rate-limiter",) if kind == "wegweiser" else ()
    child = await lab.spawn(kind, world, *options)
    figures = Throughput(scenario.name)
    try:
        warm = await run_round(scenario, people, 60)
        figures.failures += warm.failures
        cpu, counted = child.cpu(), await child.counted()
        for _ in range(rounds):
            result = await run_round(scenario, people, 60)
            figures.wall += result.wall
            figures.failures += result.failures
            for step in STEPS:
                figures.latencies += result.latencies[step]
        figures.updates = len(figures.latencies)
        figures.cpu = child.cpu() - cpu
        later = await child.counted()
        figures.statements = later.statements - counted.statements
        figures.pauses = later.pauses.since(counted.pauses)
    finally:
        await child.stop()
    return figures


async def light_load(lab: Lab, kind: str, world: World, people: Sequence[int], seconds: int) -> list[float]:
    """Each person sends /help once a second (staggered); Wegweiser has the production limiter on."""
    child = await lab.spawn(kind, world)
    latencies: list[float] = []
    try:
        for person_id in people:
            await send(world, person_id, "/start", 60)

        async def one(offset: float, person_id: int) -> None:
            await asyncio.sleep(offset)
            started = time.perf_counter()
            for tick in range(seconds):
                await asyncio.sleep(max(0.0, started + tick - time.perf_counter()))
                latency, _ = await send(world, person_id, "/help", 30)
                latencies.append(latency)

        await asyncio.gather(*(one(index / len(people), pid) for index, pid in enumerate(people)))
    finally:
        await child.stop()
    return latencies


@dataclass
class Dispatch:
    count: int
    span: float
    cpu: float = 0.0
    statements: int = 0
    pauses: Pauses | None = None

    @property
    def rate(self) -> float:
        return self.count / self.span if self.span else 0.0


async def arrivals_done(
    arrivals: list[tuple[float, int]], count: int, timeout: float, poll: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while len(arrivals) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(arrivals)} of {count} messages arrived")
        await asyncio.sleep(poll)


async def dispatcher(lab: Lab, count: int, round_: int) -> tuple[Dispatch, Dispatch]:
    """``count`` due reminders sent by Wegweiser's dispatcher (limiter lifted), then the same number
    of messages sent by the send-only floor, each to its own world and people."""
    first = FIRST_PERSON + 1_000_000 * (round_ + 1)
    now = datetime.now(UTC)
    engine = create_engine(lab.database_url)
    advisors = await seed_advisors(engine, now) if round_ == 0 else await existing_advisors(engine)
    await seed_reminders(
        engine, now, advisors, first, count, ["before_2h"], lambda index: now + timedelta(hours=2, seconds=-5)
    )
    await engine.dispose()
    world = lab.running.sandbox.add_world(new_world(f"{300000000 + round_}:SANDBOX-bench-dispatch", "w"))
    arrivals: list[tuple[float, int]] = []
    recording_people(world, range(first, first + count), arrivals)
    child = await lab.spawn("wegweiser", world, "--no-rate-limiter", reminder_interval_seconds="1")
    try:
        # CPU and statements from the first arrival on, as the floor's: not the start-up work and
        # the idle second before the dispatcher's first run.
        await arrivals_done(arrivals, 1, 120, poll=0.002)
        cpu, counted = child.cpu(), await child.counted()
        await arrivals_done(arrivals, count, 600)
        sent = Dispatch(count, arrivals[-1][0] - arrivals[0][0], child.cpu() - cpu)
        later = await child.counted()
        sent.statements = later.statements - counted.statements
        sent.pauses = later.pauses.since(counted.pauses)
    finally:
        await child.stop()
    floor_world = lab.running.sandbox.add_world(new_world(f"{400000000 + round_}:SANDBOX-bench-floor", "f"))
    floor_arrivals: list[tuple[float, int]] = []
    recording_people(floor_world, range(first, first + count), floor_arrivals)
    from handlers.reminders import WINDOW

    floor = await lab.spawn("floor", floor_world, "--chats", str(first), str(count), "--window", str(WINDOW))
    await arrivals_done(floor_arrivals, count, 600)
    await asyncio.get_running_loop().run_in_executor(None, floor.process.wait, 60)
    floor_figures = json.loads(floor.stats.read_text()) if floor.stats.exists() else None
    floor_sent = Dispatch(count, floor_arrivals[-1][0] - floor_arrivals[0][0], float("nan"))
    if floor_figures is not None:
        floor_sent.cpu = float(floor_figures["cpu"])
        floor_sent.pauses = Counted.read(floor_figures).pauses
    return sent, floor_sent


async def existing_advisors(engine: Any) -> list[int]:
    from sqlalchemy import select

    from storage.models import AdvisorProfile

    async with engine.connect() as connection:
        return list((await connection.scalars(select(AdvisorProfile.person_id))).all())


async def memory_with_offers(
    lab: Lab, world: World, offers: int, people: Sequence[int]
) -> tuple[float, float]:
    """RSS of a fresh process idle (once its background work is done, the search index built), and
    after searches over ``offers`` offers (all ten languages)."""
    path = lab.scratch / "offers.csv"
    write_directory(generate(offers, random.Random(1), datetime.now(UTC).date()), path)
    engine = create_engine(lab.database_url)
    async with session_scope(create_session_factory(engine)) as session:
        await offer_files.import_offers(session, path, datetime.now(UTC))
    await engine.dispose()
    child = await lab.spawn("wegweiser", world)
    try:
        await child.settled()  # the search index is built in the background after the first poll
        idle = child.rss_mb()
        for index, person_id in enumerate(people):
            await send(world, person_id, "/start", 60)
            for query in (SEARCHES[index % len(SEARCHES)], SEARCHES[(index + 3) % len(SEARCHES)]):
                await send(world, person_id, query, 120)
        await asyncio.sleep(1)
        return idle, child.rss_mb()
    finally:
        await child.stop()


async def memory_with_reminders(lab: Lab, world: World, stored: int) -> float:
    """RSS of a fresh process whose dispatcher has run over ``stored`` future reminders."""
    now = datetime.now(UTC)
    engine = create_engine(lab.database_url)
    advisors = await existing_advisors(engine) or await seed_advisors(engine, now)
    await seed_reminders(
        engine,
        now,
        advisors,
        FIRST_PERSON + 50_000_000,
        stored,
        ["before_24h", "before_2h", "outcome"],
        lambda index: now + timedelta(days=2 + index % 58, hours=index % 9),
    )
    await engine.dispose()
    child = await lab.spawn("wegweiser", world, reminder_interval_seconds="1")
    try:
        await asyncio.sleep(3)  # a few dispatcher runs with nothing due
        return child.rss_mb()
    finally:
        await child.stop()


# ---- the run ------------------------------------------------------------------------------------


def spread(values: Sequence[float], digits: int = 0) -> str:
    """The median and the range of alternated runs."""
    if not values:
        return "–"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def pauses_text(runs: Sequence[tuple[Pauses | None, int]], unit: str) -> str:
    """The collector's pauses of some runs: time per 1,000 units (median and range) and the longest."""
    known = [(pauses, count) for pauses, count in runs if pauses is not None and pauses.count >= 0 and count]
    if not known:
        return "collector –"
    per_thousand = [pauses.seconds * 1_000_000 / count for pauses, count in known]
    longest = max(pauses.longest_ms for pauses, _ in known)
    return f"collector {spread(per_thousand)} ms per 1,000 {unit}, longest pause {longest:.0f} ms"


PARTS = ("start-up", "throughput", "light", "dispatcher", "memory")


# What ``wegweiser run`` cannot start without: the stack the project requires (python-telegram-bot,
# SQLAlchemy's ORM and asyncio, Babel), its transport and settings, and the database's driver.
REQUIRED_LIBRARIES = (
    "telegram.ext",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "babel",
    "aiohttp",
    "pydantic_settings",
)


def libraries_alone(database_url: str) -> tuple[float, float]:
    """Seconds and CPU seconds a fresh interpreter takes to import :data:`REQUIRED_LIBRARIES` and
    the database's driver, one after the other and nothing else: about as fast as any bot on this
    stack can start on this machine (Wegweiser loads a few things on a second thread meanwhile,
    so it can come close to it)."""
    driver = "asyncpg" if database_url.startswith("postgresql") else "aiosqlite"
    # With the cycle collector off, as ``wegweiser run`` holds it off until start-up is over.
    code = f"import gc; gc.disable(); import {', '.join((*REQUIRED_LIBRARIES, driver))}"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"importing the libraries failed: {code}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


async def part_start_up(lab: Lab, wegweiser: World, echo: World) -> None:
    starts: list[float] = []
    echo_starts: list[float] = []
    cpu: list[float] = []
    echo_cpu: list[float] = []
    alone: list[float] = []
    alone_cpu: list[float] = []
    idle_rss = 0.0
    for _ in range(3):
        seconds, cpu_seconds = await asyncio.get_running_loop().run_in_executor(
            None, libraries_alone, lab.database_url
        )
        alone.append(seconds * 1000)
        alone_cpu.append(cpu_seconds * 1000)
        child = await lab.spawn("wegweiser", wegweiser)
        starts.append(child.ready * 1000)
        cpu.append(child.ready_cpu * 1000)
        await asyncio.sleep(1)
        idle_rss = child.rss_mb()
        await child.stop()
        bare = await lab.spawn("echo", echo)
        echo_starts.append(bare.ready * 1000)
        echo_cpu.append(bare.ready_cpu * 1000)
        await bare.stop()
    print(
        f"start-up to first getUpdates (3 alternated): Wegweiser {spread(starts)} ms, bare PTB "
        f"{spread(echo_starts)} ms, ratio {statistics.median(starts) / statistics.median(echo_starts):.2f}; "
        f"CPU until then (less disturbed by other processes): Wegweiser {spread(cpu)} ms, bare PTB "
        f"{spread(echo_cpu)} ms, ratio {statistics.median(cpu) / statistics.median(echo_cpu):.2f}; "
        f"Wegweiser RSS idle {idle_rss:.0f} MB",
        flush=True,
    )
    print(
        f"  the required libraries imported alone ({', '.join(REQUIRED_LIBRARIES)} "
        f"and the driver; 3 alternated): {spread(alone)} ms, CPU {spread(alone_cpu)} ms",
        flush=True,
    )


async def part_throughput(
    lab: Lab, args: argparse.Namespace, wegweiser: World, echo: World, people: Sequence[int]
) -> list[str]:
    runs: dict[str, list[Throughput]] = {"echo": [], "wegweiser": []}
    for _ in range(args.runs):
        for name, world in (("echo", echo), ("wegweiser", wegweiser)):
            runs[name].append(await closed_loop(lab, name, world, people, args.rounds))
    print(
        f"throughput, {args.people} people × {args.rounds} rounds × 3 steps, runs alternated "
        f"({args.runs} each), limiter lifted; median (range):",
        flush=True,
    )
    for name in ("echo", "wegweiser"):
        done = runs[name]
        print(
            f"  {done[0].name:16} {spread([f.rate for f in done])} updates/s, "
            f"p50 {spread([percentile(f.latencies, 50) * 1000 for f in done], 1)} ms, "
            f"p95 {spread([percentile(f.latencies, 95) * 1000 for f in done], 1)} ms, "
            f"CPU {spread([f.cpu / f.updates * 1000 for f in done], 2)} ms/update, "
            f"SQL {spread([f.statements / f.updates for f in done], 2)} statements/update, "
            f"{pauses_text([(f.pauses, f.updates) for f in done], 'updates')}",
            flush=True,
        )
    pairs = list(zip(runs["wegweiser"], runs["echo"], strict=True))
    print(
        f"  ratio Wegweiser/echo, same run: {spread([w.rate / e.rate for w, e in pairs], 2)} updates/s, "
        f"{spread([(w.cpu / w.updates) / (e.cpu / e.updates) for w, e in pairs], 2)} CPU per update",
        flush=True,
    )
    return [failure for done in runs.values() for figures in done for failure in figures.failures[:3]]


async def part_light(
    lab: Lab, args: argparse.Namespace, wegweiser: World, echo: World, people: Sequence[int]
) -> None:
    """Light load on Wegweiser (production limiter) and, as the same run's reference, on the bare
    echo bot; runs alternate, and the figures are the medians of the runs."""
    light: dict[str, list[list[float]]] = {"echo": [], "wegweiser": []}
    for _ in range(args.runs):
        for kind, world in (("echo", echo), ("wegweiser", wegweiser)):
            light[kind].append(
                await light_load(lab, kind, world, people[: args.light_people], args.light_seconds)
            )
    print(
        f"light load, {args.light_people} people × 1 message/s × {args.light_seconds} s "
        f"({args.runs} runs each, alternated; Wegweiser with the production limiter):",
        flush=True,
    )
    for kind, label in (("echo", "echo (bare PTB)"), ("wegweiser", "Wegweiser      ")):
        runs = light[kind]
        print(
            f"  {label} p50 {spread([percentile(run, 50) * 1000 for run in runs], 1)} ms, "
            f"p95 {spread([percentile(run, 95) * 1000 for run in runs], 1)} ms, "
            f"max {ms(max(max(run) for run in runs))} ms",
            flush=True,
        )


async def part_dispatcher(lab: Lab, args: argparse.Namespace) -> None:
    dispatched = [await dispatcher(lab, args.reminders, round_) for round_ in range(args.runs)]
    print(
        f"dispatcher, {args.reminders} due reminders, limiter lifted "
        f"({args.runs} runs, each beside its floor):",
        flush=True,
    )
    print(
        f"  dispatcher {spread([d.rate for d, _ in dispatched])} reminders/s, "
        f"CPU {spread([d.cpu / d.count * 1000 for d, _ in dispatched], 2)} ms/reminder, "
        f"SQL {spread([d.statements / d.count for d, _ in dispatched], 2)} statements/reminder, "
        f"{pauses_text([(d.pauses, d.count) for d, _ in dispatched], 'reminders')}",
        flush=True,
    )
    print(
        f"  send-only floor {spread([f.rate for _, f in dispatched])} messages/s, "
        f"CPU {spread([f.cpu / f.count * 1000 for _, f in dispatched], 2)} ms/message, "
        f"{pauses_text([(f.pauses, f.count) for _, f in dispatched], 'messages')}; "
        f"ratio {spread([d.rate / f.rate for d, f in dispatched], 2)}",
        flush=True,
    )


async def run(args: argparse.Namespace) -> int:
    guard_loopback()
    compile_bytecode()
    problems: list[str] = []
    print(machine_line(("database", "postgresql" if args.database_url else "sqlite")), flush=True)
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-") as scratch_name:
        scratch = Path(scratch_name)
        wegweiser = new_world("100000001:SANDBOX-bench-wegweiser")
        echo = new_world("100000002:SANDBOX-bench-echo")
        people = list(range(FIRST_PERSON, FIRST_PERSON + args.people))
        add_people(wegweiser, people)
        add_people(echo, people)
        running = await serve(Sandbox({wegweiser.token: wegweiser, echo.token: echo}))
        try:
            async with fresh_database(args.database_url, scratch, "main") as database_url:
                lab = Lab(running, FirstPolls(), scratch, database_url, args.profile)
                if "start-up" in args.parts:
                    await part_start_up(lab, wegweiser, echo)
                if "throughput" in args.parts:
                    problems += await part_throughput(lab, args, wegweiser, echo, people)
                if "light" in args.parts:
                    await part_light(lab, args, wegweiser, echo, people)
                if "dispatcher" in args.parts:
                    await part_dispatcher(lab, args)
                if "memory" in args.parts:
                    stored = await memory_with_reminders(lab, wegweiser, args.stored)
                    print(f"RSS with {args.stored:,} stored reminders: {stored:.0f} MB", flush=True)
            if "memory" in args.parts:
                async with fresh_database(args.database_url, scratch, "offers") as offers_url:
                    lab.database_url = offers_url
                    idle, searched = await memory_with_offers(lab, wegweiser, args.offers, people[:4])
                    print(
                        f"RSS with {args.offers:,} offers: {idle:.0f} MB idle, "
                        f"{searched:.0f} MB after searches",
                        flush=True,
                    )
        finally:
            await running.stop()
        refused = [
            (method, why) for world in running.sandbox.worlds.values() for method, why in world.refusals
        ]
        problems += [f"refused {method}: {why}" for method, why in refused[:5]]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL on this machine (a throwaway database is made)")
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2, help="alternated runs of each bot")
    parser.add_argument("--light-people", type=int, default=5)
    parser.add_argument("--light-seconds", type=int, default=10)
    # 6,000: at 700 per second on a slow machine, 2,000 were sent in under 3 s, too short a window
    # for the noise of a shared machine (ratios 0.55–0.87 from run to run).
    parser.add_argument("--reminders", type=int, default=6000)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=5000)
    parser.add_argument("--profile", type=Path, help="a directory for cProfile profiles of Wegweiser")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure")
    args = parser.parse_args(argv)
    check_database_url(parser, args.database_url)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
