"""Helpers for tests of the ``wegweiser`` command: stderr without the database line, an operator's
clean environment, and the sandbox Bot API served from a thread (the command runs its own loop)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve

# Read by the test fixtures, not a Wegweiser setting.
KEEP = {"WEGWEISER_TEST_POSTGRES"}


def without_database_line(err: str) -> str:
    """stderr without the line every database command starts with (``wegweiser: database …``)."""
    return "".join(
        line for line in err.splitlines(keepends=True) if not line.startswith("wegweiser: database ")
    )


def problem_lines(err: str) -> list[str]:
    """What the command said to the operator on stderr (``wegweiser: …``), without the database line
    and without log records (a migration's progress, for example)."""
    return [
        line
        for line in err.splitlines()
        if line.startswith("wegweiser: ") and not line.startswith("wegweiser: database ")
    ]


def operator_environment(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """No WEGWEISER_* setting from outside the test, the data directory and cwd in ``workdir``."""
    for name in list(os.environ):
        if name.startswith("WEGWEISER_") and name not in KEEP:
            monkeypatch.delenv(name)
    monkeypatch.setenv("WEGWEISER_DATA_DIR", str(workdir / "data"))
    monkeypatch.chdir(workdir)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox_in_a_thread(port: int = 0) -> Iterator[tuple[RunningSandbox, World]]:
    """The sandbox Bot API on its own event loop, for code under test that calls ``asyncio.run``."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    world = new_world()
    running = asyncio.run_coroutine_threadsafe(serve(Sandbox({world.token: world}), port=port), loop).result()
    try:
        yield running, world
    finally:
        asyncio.run_coroutine_threadsafe(running.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
