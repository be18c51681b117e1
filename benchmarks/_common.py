"""What the benchmarks share: nothing leaves the machine, the sandbox and its simulated people, a
throwaway PostgreSQL schema, the machine description and the figures' formatting."""

from __future__ import annotations

import argparse
import ipaddress
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application

from bot.config import Settings, load_settings
from bot.sandbox import RunningSandbox, Sandbox, World, serve
from bot.sandbox.world import ChatMessage
from storage.db import create_engine

# Phone languages and first names the simulated people cycle through.
LANGUAGES = ("de", "ar", "uk", "en", "ru", "fa", "tr", "ps", "ku", "ti")
NAMES = ("Amira", "Olena", "Yusuf", "Mariam", "Dmytro", "Leyla", "Samir", "Hanna", "Abdi", "Zainab")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


# ---- nothing leaves the machine ----------------------------------------------------------------


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _loopback_only(event_name: str, args: tuple[Any, ...]) -> None:
    """Audit hook: refuse every name lookup, connection or datagram to a non-loopback address."""
    if event_name == "socket.getaddrinfo":
        host = args[0]
        if host is not None and not is_loopback(host):
            raise ConnectionRefusedError(f"benchmark: refused to resolve non-loopback host {host!r}")
    elif event_name in ("socket.connect", "socket.sendto"):
        address = args[1]
        if isinstance(address, tuple) and not is_loopback(address[0]):
            raise ConnectionRefusedError(f"benchmark: refused non-loopback address {address[0]!r}")


def guard_loopback() -> None:
    """Make a stray request to Telegram or elsewhere fail loudly instead of leaving the machine."""
    loopback = "127.0.0.1,localhost,::1"
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = ",".join(part for part in (os.environ.get(name), loopback) if part)
    sys.addaudithook(_loopback_only)


def check_database_url(parser: argparse.ArgumentParser, database_url: str | None) -> None:
    """Refuse (via ``parser.error``) a database that is not SQLite or PostgreSQL on this machine."""
    if not database_url:
        return
    url = make_url(database_url)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        parser.error("--database-url must be a sqlite or postgresql URL")
    if url.get_backend_name() == "postgresql" and url.host and not is_loopback(url.host):
        parser.error("--database-url must point at this machine (127.0.0.1, localhost or ::1)")


# ---- the sandbox and its people -----------------------------------------------------------------


def add_people(world: World, person_ids: Iterable[int], *, started: bool = False) -> None:
    """Simulated people with names and phone languages in turn. ``started`` people have already
    pressed Start, so the bot may write to them first (reminders)."""
    for index, person_id in enumerate(person_ids):
        person = world.add_person(person_id, NAMES[index % len(NAMES)], LANGUAGES[index % len(LANGUAGES)])
        person.started = person.started or started


@asynccontextmanager
async def running_sandbox(*worlds: World) -> AsyncIterator[RunningSandbox]:
    """One sandbox on 127.0.0.1 (a free port) serving ``worlds``, stopped afterwards."""
    running = await serve(Sandbox({world.token: world for world in worlds}))
    try:
        yield running
    finally:
        await running.stop()


def bench_settings(
    token: str, api_url: str, data_dir: Path, database_url: str | None, **overrides: object
) -> Settings:
    """Wegweiser's settings for a benchmark: the sandbox's Bot API, quiet logs."""
    return load_settings(
        telegram_token=token,
        telegram_api_url=api_url,
        data_dir=data_dir,
        database_url=database_url,
        log_level="WARNING",
        **overrides,
    )


def engine_of(application: Application) -> AsyncEngine:
    """The engine behind Wegweiser's session factory (``bot.app`` builds it from the URL)."""
    return application.bot_data.runtime.sessions.kw["bind"]


# ---- the database -------------------------------------------------------------------------------


def describe_database(database_url: str | None) -> tuple[str, str]:
    """(kind, printable URL without password)."""
    if database_url is None:
        return "sqlite", "temporary SQLite file"
    url = make_url(database_url)
    kind = url.get_backend_name()
    return kind, url.render_as_string(hide_password=True)


def use_schema(engine: AsyncEngine, schema: str) -> None:
    """Every new connection of ``engine`` works in ``schema`` (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine.sync_engine, "connect", insert=True)
    def _set_search_path(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET SESSION search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.autocommit = autocommit


@asynccontextmanager
async def throwaway_schema(database_url: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh PostgreSQL schema for this run, dropped afterwards; yields (schema, server version)."""
    schema = f"bench_{secrets.token_hex(4)}"
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            version = (await connection.execute(text("SHOW server_version"))).scalar_one()
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield schema, str(version)
        finally:
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await engine.dispose()


# ---- report -------------------------------------------------------------------------------------


def machine_line(*libraries: tuple[str, str]) -> str:
    """Python, OS, CPUs and the given (library, version) pairs, on one line."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (
        f"python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({usable} usable); "
        + ", ".join(f"{name} {version}" for name, version in libraries)
    )


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(p) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


class RecordingChat(list[ChatMessage]):
    """A chat that notes, with ``time.monotonic()``, when each bot message arrives in the sandbox
    (the sandbox stores every sent message with ``append``; its own dates are whole seconds)."""

    def __init__(self, chat_id: int, arrivals: list[tuple[float, int]]):
        super().__init__()
        self.chat_id = chat_id
        self.arrivals = arrivals

    def append(self, message: ChatMessage) -> None:
        if message.sender == "bot":
            self.arrivals.append((time.monotonic(), self.chat_id))
        super().append(message)


def busiest_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most arrivals within any ``window`` seconds (a sliding window)."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
