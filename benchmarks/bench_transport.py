"""The Bot API transport alone: CPU and wall time per ``sendMessage`` for PTB's default httpx client,
httpx tuned (a pool of 16, no proxy lookups from the environment) and Wegweiser's aiohttp
``BaseRequest``, against the stand-in running in another process. Runs alternate; medians and ranges.

    .venv/bin/python -m benchmarks.bench_transport [--requests 1500] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from benchmarks._common import guard_loopback, machine_line
from bot.request import AiohttpRequest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "100000001:SANDBOX-wegweiser-local-only"
STAND_IN = """
import asyncio
from bot.sandbox import Sandbox, new_world, serve

async def main():
    world = new_world()
    world.add_person(4242, "Amira", "ar").started = True
    running = await serve(Sandbox({world.token: world}))
    print(running.port, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""
TRANSPORTS: dict[str, Callable[[], BaseRequest]] = {
    "httpx (PTB default)": HTTPXRequest,
    "httpx tuned": lambda: HTTPXRequest(connection_pool_size=16, httpx_kwargs={"trust_env": False}),
    "aiohttp (bot/request.py)": AiohttpRequest,
}


async def measure(name: str, port: int, requests: int, concurrency: int) -> tuple[float, float]:
    """(CPU ms per request, requests per second) after a warm-up."""
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=TRANSPORTS[name]())
    await bot.initialize()
    slots = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with slots:
            await bot.send_message(4242, "Hallo")

    await asyncio.gather(*(one() for _ in range(100)))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await bot.shutdown()
    return cpu / requests * 1000, requests / wall


async def run(args: argparse.Namespace) -> None:
    guard_loopback()
    print(machine_line(), flush=True)
    stand_in = subprocess.Popen([sys.executable, "-c", STAND_IN], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert stand_in.stdout is not None
        port = int(stand_in.stdout.readline())
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in TRANSPORTS}
        for _ in range(args.runs):
            for name in TRANSPORTS:
                figures[name].append(await measure(name, port, args.requests, args.concurrency))
    finally:
        stand_in.kill()
        stand_in.wait()
    print(f"{args.requests} sendMessage × {args.runs} alternated runs, {args.concurrency} at a time:")
    for name, runs in figures.items():
        cpu = [run[0] for run in runs]
        rate = [run[1] for run in runs]
        print(
            f"  {name:26} CPU {statistics.median(cpu):.2f} ms/request ({min(cpu):.2f}–{max(cpu):.2f}), "
            f"{statistics.median(rate):.0f} requests/s ({min(rate):.0f}–{max(rate):.0f})"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
