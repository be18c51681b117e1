"""News benchmark: the news queue's send rate under the production rate limiter.

Run from the project root::

    .venv/bin/python -m benchmarks.bench_news [--subscribers 2000] [--database-url URL]

2,000 subscribers (ten languages) get one news item through the real Application, its
``news-dispatcher`` job and the production limiter (``bot.rate_limit``: PTB's ``AIORateLimiter``
spreading messages evenly just under 30/s), against the sandbox on 127.0.0.1. Printed: the send
rate from the first to the last arrival against Telegram's 30/s (the target is at least 95 %), the
busiest second overall, and the most messages one chat received within any one second (must be 1).
Beforehand, in the same run, a send-only floor: messages straight through the same limiter without
the database, the rate this shared machine allows at that moment. Then 30 people get two items
queued at the same moment, to show the one-second spacing within a chat.
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
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy
import telegram
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

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
    running_sandbox,
    throwaway_schema,
    use_schema,
)
from bot.app import build_application, polling
from bot.sandbox import World, new_world
from handlers import news as news_jobs
from storage import news
from storage.consent import CURRENT_VERSIONS, Purpose
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Consent, DeliveryStatus, NewsDelivery, Person, Role
from storage.news import NewsContent

TOKEN = "100000031:SANDBOX-bench-news"
FIRST_ID = 70_000_001
CONFIGURED_RATE = 30.0  # Telegram's limit, which the production limiter stays just under
PAIRS = 30
TARGET = 0.95


async def seed(engine: AsyncEngine, telegram_ids: Sequence[int], now: datetime) -> int:
    """Subscribers with a news consent, and an admin who writes; returns the admin's person id."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(Person),
            [
                {
                    "telegram_id": telegram_id,
                    "language": LANGUAGES[index % len(LANGUAGES)],
                    "role": Role.REFUGEE,
                    "first_seen": now,
                    "last_seen": now,
                }
                for index, telegram_id in enumerate(telegram_ids)
            ],
        )
        await connection.execute(
            insert(Person).values(
                telegram_id=1, role=Role.ADMIN, staff_name="Admin", first_seen=now, last_seen=now
            )
        )
        ids = dict((await connection.execute(select(Person.telegram_id, Person.id))).all())
        await connection.execute(
            insert(Consent),
            [
                {
                    "person_id": ids[telegram_id],
                    "purpose": Purpose.NEWS,
                    "text_version": CURRENT_VERSIONS[Purpose.NEWS],
                    "language": "de",
                    "given_at": now,
                    "given_how": "chat",
                }
                for telegram_id in telegram_ids
            ],
        )
        return ids[1]


async def send_items(
    engine: AsyncEngine, admin: int, now: datetime, count: int, languages: frozenset[str] | None
) -> None:
    async with session_scope(create_session_factory(engine)) as session:
        for number in range(count):
            await news.create_news(
                session,
                NewsContent(
                    {"de": f"Neuigkeit {number + 1}: neuer Sprachkurs ab Montag."}, languages=languages
                ),
                admin,
                now,
                now,
                LANGUAGES,
            )


async def send_only_floor(application, chat_ids: Sequence[int], arrivals: list[tuple[float, int]]) -> float:
    """Messages sent concurrently straight through the bot's limiter: the rate this machine allows
    right now, as the baseline for the dispatcher's rate."""
    arrivals.clear()
    await asyncio.gather(*(application.bot.send_message(chat_id, "Floor") for chat_id in chat_ids))
    times = [moment for moment, _ in arrivals]
    return (len(times) - 1) / (max(times) - min(times))


async def drain(application, engine: AsyncEngine) -> float:
    """Run the dispatcher until nothing is queued; the wall time."""
    assert application.job_queue is not None
    (job,) = application.job_queue.get_jobs_by_name(news_jobs.JOB_ID)
    started = time.perf_counter()
    while True:
        await job.run(application)
        async with engine.connect() as connection:
            open_count = await connection.scalar(
                select(func.count())
                .select_from(NewsDelivery)
                .where(NewsDelivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)))
            )
        if not open_count:
            return time.perf_counter() - started


async def run(args: argparse.Namespace) -> int:
    kind, shown_url = describe_database(args.database_url)
    print(f"Wegweiser news benchmark: {args.subscribers} subscribers, production rate limiter")
    print(machine_line(("python-telegram-bot", telegram.__version__), ("SQLAlchemy", sqlalchemy.__version__)))
    problems: list[str] = []
    world: World = new_world(TOKEN, "news_bench_bot")
    people = [FIRST_ID + index for index in range(args.subscribers)]
    arrivals: list[tuple[float, int]] = []
    add_people(world, people, started=True)
    for person_id in people:
        world.chats[person_id] = RecordingChat(person_id, arrivals)
    now = datetime.now(UTC).replace(microsecond=0)
    async with running_sandbox(world) as running, contextlib.AsyncExitStack() as stack:
        with tempfile.TemporaryDirectory(prefix="wegweiser-bench-news-") as scratch:
            schema = None
            if args.database_url:
                schema, _ = await stack.enter_async_context(throwaway_schema(args.database_url))
                url = args.database_url
                print(f"database: postgresql — {shown_url}, a throwaway schema")
            else:
                url = f"sqlite+aiosqlite:///{Path(scratch) / 'news.sqlite3'}"
                print(f"database: sqlite {sqlite3.sqlite_version} — {kind}")
            engine = create_engine(url)
            if schema:
                use_schema(engine, schema)
            await upgrade_to_head(engine)
            admin = await seed(engine, people, now)
            settings = bench_settings(
                TOKEN, running.api_url, Path(scratch), url, reminder_interval_seconds=3600
            )
            application = build_application(settings, rate_limited=True, clock=lambda: now)
            if schema:
                use_schema(engine_of(application), schema)
            async with polling(application):
                floor = await send_only_floor(application, people[: args.floor], arrivals)
                print(
                    f"0. send-only floor: {args.floor} messages straight through the same limiter, no "
                    f"database: {floor:.2f}/s = {floor / CONFIGURED_RATE:.1%} of the configured rate"
                )
                for person_id in people[: args.floor]:
                    world.chats[person_id] = RecordingChat(person_id, arrivals)
                arrivals.clear()
                await send_items(engine, admin, now, 1, None)
                wall = await drain(application, engine)
                times = [moment for moment, _ in arrivals]
                span = max(times) - min(times)
                rate = (len(times) - 1) / span
                by_chat: dict[int, list[float]] = defaultdict(list)
                for moment, chat in arrivals:
                    by_chat[chat].append(moment)
                per_chat = max(busiest_window(moments) for moments in by_chat.values())
                ok_count = len(times) == len(people) and all(len(m) == 1 for m in by_chat.values())
                ok_rate = rate >= TARGET * CONFIGURED_RATE
                print(
                    f"1. {len(times)} messages to {len(by_chat)} chats in {wall:.1f} s: "
                    f"{rate:.2f}/s first to last arrival = {rate / CONFIGURED_RATE:.1%} of the configured "
                    f"{CONFIGURED_RATE:.0f}/s [{'ok' if ok_rate else 'WRONG'}], "
                    f"{rate / floor:.2f}× the floor; busiest second "
                    f"{busiest_window(times)}; most to one chat within a second {per_chat} "
                    f"[{'ok' if per_chat <= 1 else 'WRONG'}]; "
                    f"each subscriber once [{'ok' if ok_count else 'WRONG'}]"
                )
                problems += [] if ok_rate else ["rate below 95 %"]
                problems += [] if per_chat <= 1 and ok_count else ["per-chat or count"]

                arrivals.clear()
                pair_people = people[:PAIRS]
                async with engine.begin() as connection:
                    await connection.execute(
                        sqlalchemy.update(Person)
                        .where(Person.telegram_id.notin_(pair_people), Person.telegram_id != 1)
                        .values(blocked_at=now)
                    )
                await send_items(engine, admin, now, 2, None)
                pair_wall = await drain(application, engine)
                pairs: dict[int, list[float]] = defaultdict(list)
                for moment, chat in arrivals:
                    pairs[chat].append(moment)
                gaps = [max(m) - min(m) for m in pairs.values() if len(m) == 2]
                pair_max = max(busiest_window(moments) for moments in pairs.values())
                ok_pairs = len(gaps) == PAIRS and pair_max <= 1
                print(
                    f"2. {PAIRS} people with two items queued at once: {len(arrivals)} messages in "
                    f"{pair_wall:.1f} s; gap within a chat min {min(gaps):.2f} s, max {max(gaps):.2f} s; "
                    f"most to one chat within a second {pair_max} [{'ok' if ok_pairs else 'WRONG'}]"
                )
                problems += [] if ok_pairs else ["same-chat spacing"]
            await engine.dispose()
    problems += [f"Bot API refused {method}: {reason}" for method, reason in world.refusals]
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_news", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--subscribers", type=int, default=2000, help="subscribers (2000)")
    parser.add_argument("--floor", type=int, default=300, help="messages for the send-only floor (300)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL on this machine (default: SQLite)")
    args = parser.parse_args(argv)
    check_database_url(parser, args.database_url)
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a postgresql URL (leave it out for SQLite)")
    if args.subscribers < max(PAIRS, args.floor):
        parser.error(f"--subscribers must be at least {PAIRS} and at least --floor")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    guard_loopback()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
