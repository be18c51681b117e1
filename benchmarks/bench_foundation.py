"""Foundation benchmark: Wegweiser against a bare python-telegram-bot echo bot, both on the sandbox.

Run from the project root::

    .venv/bin/python -m benchmarks.bench_foundation [--people 50] [--rounds 3] [--database-url URL]

One sandbox on 127.0.0.1 holds two bot worlds. N simulated people act concurrently; each person
sends /start, sends /help and taps a button on the /start reply, one step after the other, and
every step is timed from the person's action to the bot's visible reaction in the sandbox (a new
bot message in that chat, or the tapped message edited). The first round is a warm-up and is not
counted. The bots are measured one after the other, so neither competes with the other for CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from benchmarks._common import (
    add_people,
    bench_settings,
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
from bot.app import build_application, file_url_for, polling
from bot.sandbox import ChatMessage, World, new_world
from handlers.keyboards import MENU

WEGWEISER_TOKEN = "100000001:SANDBOX-bench-wegweiser"
ECHO_TOKEN = "100000002:SANDBOX-bench-echo"
ECHO_TAP = "echo:tap"
CONCURRENCY = 16  # Wegweiser's PerPersonUpdateProcessor(16); the echo bot gets concurrent_updates(16)
FIRST_PERSON_ID = 50_000_001
STEPS = ("/start", "/help", "tap")


# ---- measuring one person's steps ---------------------------------------------------------------


class StepFailed(Exception):
    """The bot did not react to a step in time, or reacted with something unexpected."""


async def until(world: World, found: Callable[[], ChatMessage | None], timeout: float) -> ChatMessage:
    """Wait (on the world's change notifications) until ``found`` returns a message."""
    deadline = time.perf_counter() + timeout
    while True:
        version = world.version
        result = found()
        if result is not None:
            return result
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise StepFailed(f"no reaction within {timeout:g} s")
        await world.wait_for_change(version, remaining)


async def send(world: World, person_id: int, text_: str, timeout: float) -> tuple[float, ChatMessage]:
    """The person sends ``text_``; the latency until the next bot message in the chat, and that message."""
    chat = world.chats[person_id]
    baseline = chat[-1].message_id if chat else 0

    def reply() -> ChatMessage | None:
        for message in reversed(chat):
            if message.message_id <= baseline:
                return None
            if message.sender == "bot":
                return message
        return None

    started = time.perf_counter()
    await world.person_sends(person_id, text_)
    message = await until(world, reply, timeout)
    return time.perf_counter() - started, message


async def tap(world: World, person_id: int, message: ChatMessage, data: str, timeout: float) -> float:
    """The person taps a button on ``message``; the latency until the bot edited that message."""
    before = (message.text, message.html, message.reply_markup)

    def edited() -> ChatMessage | None:
        return message if (message.text, message.html, message.reply_markup) != before else None

    started = time.perf_counter()
    await world.person_taps(person_id, message.message_id, data)
    await until(world, edited, timeout)
    return time.perf_counter() - started


def has_button(message: ChatMessage, data: str) -> bool:
    return any(button.get("callback_data") == data for button in message.buttons)


@dataclass(frozen=True)
class Scenario:
    """What one bot is expected to do for /start, /help and the tap, so a wrong reply is caught."""

    name: str
    world: World
    tap_data: str
    start_ok: Callable[[ChatMessage], bool]
    help_ok: Callable[[ChatMessage], bool]
    edit_ok: Callable[[ChatMessage], bool]


def wegweiser_scenario(world: World) -> Scenario:
    return Scenario(
        name="Wegweiser",
        world=world,
        tap_data=MENU.encode("help"),
        start_ok=lambda m: has_button(m, MENU.encode("help")),
        help_ok=lambda m: has_button(m, MENU.encode("home")),
        edit_ok=lambda m: has_button(m, MENU.encode("home")),
    )


def echo_scenario(world: World) -> Scenario:
    return Scenario(
        name="echo (bare PTB)",
        world=world,
        tap_data=ECHO_TAP,
        start_ok=lambda m: m.text == "/start" and has_button(m, ECHO_TAP),
        help_ok=lambda m: m.text == "/help",
        edit_ok=lambda m: m.text.endswith("✓"),
    )


async def person_round(scenario: Scenario, person_id: int, timeout: float) -> dict[str, float]:
    """/start, /help, tap on the /start reply — each step waits for the previous one's reaction."""
    world = scenario.world
    latencies: dict[str, float] = {}
    latencies["/start"], start_reply = await send(world, person_id, "/start", timeout)
    if not scenario.start_ok(start_reply):
        raise StepFailed(f"unexpected /start reply {start_reply.text[:60]!r}")
    latencies["/help"], help_reply = await send(world, person_id, "/help", timeout)
    if not scenario.help_ok(help_reply):
        raise StepFailed(f"unexpected /help reply {help_reply.text[:60]!r}")
    latencies["tap"] = await tap(world, person_id, start_reply, scenario.tap_data, timeout)
    if not scenario.edit_ok(start_reply):
        raise StepFailed(f"unexpected edit {start_reply.text[:60]!r}")
    return latencies


@dataclass
class RoundResult:
    wall: float
    latencies: dict[str, list[float]]
    failures: list[str]


async def run_round(scenario: Scenario, people: Sequence[int], timeout: float) -> RoundResult:
    """All people act at once; the round ends when every person's three steps are done."""

    async def one(person_id: int) -> dict[str, float] | str:
        try:
            return await person_round(scenario, person_id, timeout)
        except (StepFailed, LookupError) as failure:
            return f"person {person_id}: {failure}"

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(person_id)) for person_id in people]
    wall = time.perf_counter() - started
    result = RoundResult(wall, {step: [] for step in STEPS}, [])
    for task in tasks:
        outcome = task.result()
        if isinstance(outcome, str):
            result.failures.append(outcome)
        else:
            for step, latency in outcome.items():
                result.latencies[step].append(latency)
    return result


@dataclass
class Figures:
    name: str
    updates: int = 0
    wall: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def all_latencies(self) -> list[float]:
        return [latency for step in STEPS for latency in self.latencies[step]]

    @property
    def rate(self) -> float:
        return self.updates / self.wall if self.wall else 0.0


async def measure(
    scenario: Scenario,
    running: AbstractAsyncContextManager[Any],
    people: Sequence[int],
    rounds: int,
    timeout: float,
) -> Figures:
    figures = Figures(scenario.name)
    async with running:
        warm_up = await run_round(scenario, people, timeout)
        figures.failures += [f"warm-up: {failure}" for failure in warm_up.failures]
        for _ in range(rounds):
            result = await run_round(scenario, people, timeout)
            figures.wall += result.wall
            figures.failures += result.failures
            for step in STEPS:
                figures.latencies[step] += result.latencies[step]
                figures.updates += len(result.latencies[step])
    world = scenario.world
    figures.problems += [f"Bot API refused {method}: {reason}" for method, reason in world.refusals]
    unanswered = sum(not query.answered for query in world.callback_queries.values())
    if unanswered:
        figures.problems.append(f"{unanswered} callback queries were never answered")
    return figures


# ---- the two bots -------------------------------------------------------------------------------


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        button = InlineKeyboardButton("Tap", callback_data=ECHO_TAP)
        await message.reply_text(message.text, reply_markup=InlineKeyboardMarkup([[button]]))


async def echo_tapped(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if query.message is not None and getattr(query.message, "text", None):
        await query.edit_message_text(f"{query.message.text} ✓", reply_markup=query.message.reply_markup)


def build_echo_bot(api_url: str, *, rate_limited: bool) -> Application:
    builder = (
        ApplicationBuilder()
        .token(ECHO_TOKEN)
        .base_url(api_url)
        .base_file_url(file_url_for(api_url))
        .concurrent_updates(CONCURRENCY)
    )
    if rate_limited:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(echo_tapped))
    return application


@asynccontextmanager
async def echo_polling(application: Application) -> AsyncIterator[Application]:
    await application.initialize()
    try:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=10, allowed_updates=["message", "callback_query"]
        )
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()


# ---- report -------------------------------------------------------------------------------------


def report(echo_figures: Figures, wegweiser: Figures) -> None:
    figures = (echo_figures, wegweiser)
    header = f"{'bot':<18}{'updates':>9}{'wall s':>9}{'upd/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    print(header)
    print("-" * len(header))
    for row in figures:
        values = row.all_latencies
        print(
            f"{row.name:<18}{row.updates:>9}{row.wall:>9.2f}{row.rate:>9.1f}"
            f"{ms(percentile(values, 50)):>9}{ms(percentile(values, 95)):>9}"
            f"{ms(max(values, default=float('nan'))):>9}"
        )
    print()
    print(f"{'p50 / p95 by step':<18}" + "".join(f"{step:>18}" for step in STEPS))
    for row in figures:
        cells = [
            f"{ms(percentile(row.latencies[step], 50))} / {ms(percentile(row.latencies[step], 95))}"
            for step in STEPS
        ]
        print(f"{row.name:<18}" + "".join(f"{cell:>18}" for cell in cells))
    print()
    echo_all, weg_all = echo_figures.all_latencies, wegweiser.all_latencies

    def ratio(ours: float, theirs: float) -> str:
        return f"{ours / theirs:.2f}×" if theirs else "n/a"

    print(
        "Wegweiser / echo:  "
        f"throughput {ratio(wegweiser.rate, echo_figures.rate)}   "
        f"p50 {ratio(percentile(weg_all, 50), percentile(echo_all, 50))}   "
        f"p95 {ratio(percentile(weg_all, 95), percentile(echo_all, 95))}"
    )


# ---- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    people = [FIRST_PERSON_ID + index for index in range(args.people)]
    wegweiser_world = new_world(WEGWEISER_TOKEN, "wegweiser_bench_bot")
    echo_world = new_world(ECHO_TOKEN, "echo_bench_bot")
    for world in (wegweiser_world, echo_world):
        add_people(world, people)

    kind, shown_url = describe_database(args.database_url)
    print(
        f"Wegweiser foundation benchmark: {args.people} people × {args.rounds} rounds "
        f"(+1 warm-up round, not counted), {len(STEPS)} updates per person per round"
    )
    print(machine_line(("python-telegram-bot", telegram.__version__), ("SQLAlchemy", sqlalchemy.__version__)))

    async with running_sandbox(wegweiser_world, echo_world) as running:
        with tempfile.TemporaryDirectory(prefix="wegweiser-bench-") as data_dir:
            settings = bench_settings(WEGWEISER_TOKEN, running.api_url, Path(data_dir), args.database_url)
            async with contextlib.AsyncExitStack() as stack:
                schema = None
                if kind == "postgresql":
                    schema, server_version = await stack.enter_async_context(
                        throwaway_schema(settings.resolved_database_url())
                    )
                    print(f"database: postgresql {server_version} — {shown_url}, throwaway schema {schema}")
                else:
                    print(f"database: sqlite {sqlite3.sqlite_version} — {shown_url}")
                print(
                    f"sandbox: {running.base_url}; both bots handle up to {CONCURRENCY} updates at once; "
                    f"rate limiter: Wegweiser {'none' if args.no_rate_limiter else 'AIORateLimiter'}, "
                    f"echo {'AIORateLimiter' if args.echo_rate_limiter else 'none'}"
                )
                print(flush=True)

                echo_bot = build_echo_bot(running.api_url, rate_limited=args.echo_rate_limiter)
                echo_figures = await measure(
                    echo_scenario(echo_world), echo_polling(echo_bot), people, args.rounds, args.timeout
                )
                # --no-rate-limiter is not the production set-up: it measures the bot itself.
                application = build_application(settings, rate_limited=not args.no_rate_limiter)
                if schema is not None:
                    use_schema(engine_of(application), schema)
                wegweiser_figures = await measure(
                    wegweiser_scenario(wegweiser_world),
                    polling(application),
                    people,
                    args.rounds,
                    args.timeout,
                )

    report(echo_figures, wegweiser_figures)
    trouble = [
        (row.name, line) for row in (echo_figures, wegweiser_figures) for line in row.failures + row.problems
    ]
    stray = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if stray:
        trouble.append(("shutdown", f"{len(stray)} tasks still running: {stray[:3]!r}"))
    for name, line in trouble[:20]:
        print(f"PROBLEM {name}: {line}", file=sys.stderr)
    if len(trouble) > 20:
        print(f"PROBLEM … and {len(trouble) - 20} more", file=sys.stderr)
    return 1 if trouble else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_foundation",
        description="Wegweiser vs. a bare PTB echo bot on the local sandbox (nothing leaves 127.0.0.1).",
    )
    parser.add_argument("--people", type=int, default=50, help="simulated people acting at once (50)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds after the warm-up (3)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="Wegweiser's database on this machine, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test "
        "(a throwaway schema is created and dropped); default: a fresh SQLite file in a temp dir",
    )
    parser.add_argument(
        "--echo-rate-limiter",
        action="store_true",
        help="give the echo bot the same AIORateLimiter as Wegweiser (30 chat messages/s overall)",
    )
    parser.add_argument(
        "--no-rate-limiter",
        action="store_true",
        help="take Wegweiser's AIORateLimiter out (not the production set-up) to see the bot's own cost",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one reaction (30)")
    args = parser.parse_args(argv)
    if args.people < 1 or args.rounds < 1:
        parser.error("--people and --rounds must be at least 1")
    check_database_url(parser, args.database_url)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    guard_loopback()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
