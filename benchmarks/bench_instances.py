"""Several instances benchmark: updates per second and reply latency (p50, p95) for 1, 2 and 3
``wegweiser run`` processes in webhook mode behind the loopback balancer, on PostgreSQL.

Run from the project root::

    .venv/bin/python -m benchmarks.bench_instances [--people 60] [--rounds 4]
        [--admin-dsn postgresql://postgres@127.0.0.1:5432/test]

For each instance count, a fresh PostgreSQL database is created (through the admin DSN) and
dropped afterwards, the sample offers are imported, and the instances are started as real
processes (``python -m bot.cli run``) against the sandbox on 127.0.0.1. Every simulated person first
sends /start (warm-up, not measured), then ``--rounds`` times /help and /offers in turn, each time
waiting for the bot's answer. A reply's latency runs from the person's message to the bot's
message arriving in the sandbox; updates/s is the measured messages divided by the wall time of
the measured part. A first row runs one instance with long polling, the single-instance default,
as the baseline of the same run. Each instance keeps its production rate limiter (about 30
messages a second per process), so one instance cannot answer faster than that.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks._common import LANGUAGES, NAMES, guard_loopback, machine_line, ms, percentile
from bot.sandbox import Sandbox, World, new_world, serve
from tests.support import databases
from tests.support.cluster import Cluster, seed_consultations
from tests.support.harness import OFFERS_FIXTURE

FIRST_PERSON = 30_001
REPLY_TIMEOUT = 60.0


async def reply_latency(world: World, person_id: int, text: str) -> float | None:
    """Send ``text`` and wait for the bot's next message; seconds, or ``None`` on timeout."""
    chat = world.chats[person_id]
    before = sum(1 for message in chat if message.sender == "bot")
    started = time.perf_counter()
    await world.person_sends(person_id, text)
    while sum(1 for message in chat if message.sender == "bot") <= before:
        if time.perf_counter() - started > REPLY_TIMEOUT:
            return None
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def measure(
    instances: int, people: int, rounds: int, workdir: Path, *, webhook: bool = True
) -> tuple[float, list[float], int]:
    """One run with ``instances`` processes (or one long-polling): (updates/s, latencies, timeouts)."""
    name, url = await asyncio.to_thread(databases.create_postgres_database)
    world = new_world()
    running = await serve(Sandbox({world.token: world}))
    try:
        await seed_consultations(
            url,
            world,
            ZoneInfo("Europe/Berlin"),
            datetime.now(UTC),
            advisors=[],
            reminded=[],
            offers=OFFERS_FIXTURE,
        )
        person_ids = range(FIRST_PERSON, FIRST_PERSON + people)
        for index, person_id in enumerate(person_ids):
            world.add_person(person_id, NAMES[index % len(NAMES)], LANGUAGES[index % len(LANGUAGES)])
        cluster = Cluster(world, running.api_url, url, workdir, instances, webhook=webhook)
        await cluster.start()
        try:
            await asyncio.gather(*(reply_latency(world, person_id, "/start") for person_id in person_ids))

            async def person(person_id: int) -> list[float | None]:
                return [
                    await reply_latency(world, person_id, "/help" if step % 2 == 0 else "/offers")
                    for step in range(rounds)
                ]

            started = time.perf_counter()
            results = await asyncio.gather(*(person(person_id) for person_id in person_ids))
            wall = time.perf_counter() - started
        finally:
            await cluster.stop()
    finally:
        await running.stop()
        await asyncio.to_thread(databases.drop_postgres_database, name)
    latencies = [latency for steps in results for latency in steps if latency is not None]
    timeouts = sum(1 for steps in results for latency in steps if latency is None)
    return len(latencies) / wall, latencies, timeouts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--people", type=int, default=60, help="simulated people (default 60)")
    parser.add_argument("--rounds", type=int, default=4, help="measured messages per person (default 4)")
    parser.add_argument("--admin-dsn", default=databases.POSTGRES_ADMIN_DSN, help="PostgreSQL admin database")
    args = parser.parse_args()
    databases.POSTGRES_ADMIN_DSN = args.admin_dsn
    guard_loopback()
    reason = await asyncio.to_thread(databases.postgres_available)
    if reason is not None:
        parser.error(reason)
    import sqlalchemy
    import telegram

    print(machine_line(("python-telegram-bot", telegram.__version__), ("SQLAlchemy", sqlalchemy.__version__)))
    print(f"{args.people} people × {args.rounds} messages, webhook mode, PostgreSQL, loopback balancer")
    print(f"{'instances':<26}  {'updates/s':>9}  {'p50 ms':>8}  {'p95 ms':>8}  {'timeouts':>8}")
    runs = [("1, long polling (baseline)", 1, False)] + [(f"{n}, webhook", n, True) for n in (1, 2, 3)]
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-instances-") as workdir:
        for label, instances, webhook in runs:
            rate, latencies, timeouts = await measure(
                instances, args.people, args.rounds, Path(workdir), webhook=webhook
            )
            print(
                f"{label:<26}  {rate:>9.1f}  {ms(percentile(latencies, 50)):>8}  "
                f"{ms(percentile(latencies, 95)):>8}  {timeouts:>8}",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
