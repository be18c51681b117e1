"""Start-up of this checkout against an earlier revision, alternated: ``wegweiser run`` spawned as
``bench_production`` spawns it (``benchmarks._bot_process``), from this checkout and from a temporary
git worktree of ``--against``, in turn, each time until its first ``getUpdates`` at the stand-in.

    .venv/bin/python -m benchmarks.bench_start_up --against b7b4b3e --pairs 20
    .venv/bin/python -m benchmarks.bench_start_up --against HEAD~1 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Prints the medians (and quartiles) of the time and of the process's CPU until the first
``getUpdates`` for each side, and the median of the paired differences: on a shared machine wall
times swing by a third from minute to minute, and a pair spawned seconds apart shares the minute.
Both trees get compiled bytecode first (as an installation has it), and both use one migrated
database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import bench_production
from benchmarks._common import guard_loopback, machine_line
from bot.sandbox import Sandbox, new_world, serve


def quartiles(values: Sequence[float]) -> str:
    first, median, third = statistics.quantiles(values, n=4)
    return f"{median:5.0f} ms (quartiles {first:.0f}–{third:.0f})"


async def alternate(trees: dict[str, Path], pairs: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="wegweiser-start-up-") as scratch_name:
        scratch = Path(scratch_name)
        world = new_world("100000001:SANDBOX-bench-start-up")
        running = await serve(Sandbox({world.token: world}))
        try:
            async with bench_production.fresh_database(database_url, scratch, "main") as url:
                lab = bench_production.Lab(running, bench_production.FirstPolls(), scratch, url, None)
                wall: dict[str, list[float]] = {name: [] for name in trees}
                cpu: dict[str, list[float]] = {name: [] for name in trees}
                for pair in range(pairs):
                    order = list(trees) if pair % 2 == 0 else list(reversed(trees))
                    for name in order:
                        bench_production.ROOT = trees[name]  # the child runs from this tree
                        os.environ["PYTHONPATH"] = str(trees[name])
                        child = await lab.spawn("wegweiser", world)
                        wall[name].append(child.ready * 1000)
                        cpu[name].append(child.ready_cpu * 1000)
                        await child.stop()
        finally:
            await running.stop()
    for name in trees:
        print(f"  {name:8} first getUpdates {quartiles(wall[name])}, CPU until then {quartiles(cpu[name])}")
    paired = [after - before for after, before in zip(wall["this"], wall["against"], strict=True)]
    paired_cpu = [after - before for after, before in zip(cpu["this"], cpu["against"], strict=True)]
    print(
        f"  this − against, median of the {pairs} pairs: {statistics.median(paired):+.0f} ms to the first "
        f"getUpdates, {statistics.median(paired_cpu):+.0f} ms of CPU"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", required=True, help="a git revision to compare this checkout with")
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--database-url", help="PostgreSQL on this machine (a throwaway database is made)")
    args = parser.parse_args(argv)
    guard_loopback()
    this = bench_production.ROOT
    database = "postgresql" if args.database_url else "sqlite"
    print(machine_line(("database", database)), flush=True)
    with tempfile.TemporaryDirectory(prefix="wegweiser-against-") as parent:
        against = Path(parent) / "tree"
        subprocess.run(
            ["git", "-C", str(this), "worktree", "add", "--detach", "--quiet", str(against), args.against],
            check=True,
        )
        try:
            for tree in (this, against):
                bench_production.compile_bytecode(tree)
            print(f"start-up, {args.pairs} alternated pairs: this checkout against {args.against}")
            asyncio.run(alternate({"this": this, "against": against}, args.pairs, args.database_url))
        finally:
            remove = ["git", "-C", str(this), "worktree", "remove", "--force", str(against)]
            subprocess.run(remove, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
