"""``wegweiser run`` asks Telegram for updates before it loads what polling does not need (migrations,
the desk's web stack, posters, holidays, the offer file reader, …), and still serves the desk and the
command menus once it polls, then freezes what start-up built out of the cycle collector; what fails
after polling has begun stops the bot as before."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

import bot.web
from bot import collector, startup
from bot.cli import main
from bot.sandbox import Sandbox, new_world, serve
from bot.sandbox import server as sandbox_server
from storage.db import create_engine
from storage.migrate import upgrade_to_head
from tests.support.bot_process import PROJECT_ROOT
from tests.support.cli import operator_environment, problem_lines, sandbox_in_a_thread
from tests.support.harness import TEST_AUDIT_KEY, TEST_CASE_KEY

# Loaded by `run` only when needed: Alembic when the database is behind, the desk's web stack once
# polling runs, the rest by other commands or on first use.
NOT_BEFORE_POLLING = (
    "alembic",
    "starlette",
    "uvicorn",
    "jinja2",
    "weasyprint",
    "segno",
    "holidays",
    "icalendar",
    "yaml",
    "asyncpg",
    "sqlalchemy.dialects.postgresql",  # on SQLite (storage.dialects)
    "desk",
    "bot.web",
    "bot.demo",
    "bot.doctor",
    "storage.offer_files",
    "storage.report",
    "storage.backup",
    "numpy",
    "rapidfuzz",
)
# May be loaded once polling runs and the desk is served: the desk with its web stack and report,
# the search index's rapidfuzz, and asyncpg (on PostgreSQL).
LOADED_ONCE_SERVING = ("starlette", "uvicorn", "desk", "bot.web", "asyncpg", "storage.report", "rapidfuzz")
# Not loaded while the bot runs and serves the desk until a page needs them (memory, not time: each
# module stays once loaded): Jinja2, the calendar feed's icalendar, the offer file reader with its YAML.
NOT_WHILE_SERVING = tuple(module for module in NOT_BEFORE_POLLING if module not in LOADED_ONCE_SERVING)

# `wegweiser run` itself (its entry point), noting every loaded module and whether the cycle collector
# is on when polling has been started (before the application starts, so before anything
# `bot.startup` runs afterwards), and again on SIGUSR1 with how many objects are frozen out of the
# collector, how many it still tracks, and after how many new objects it collects the youngest
# generation.
NOTE_MODULES_AT_FIRST_POLL = """
import gc, json, signal, sys
from pathlib import Path
from telegram.ext import Updater

def note_serving(*_):
    noted = {"modules": sorted(sys.modules), "frozen": gc.get_freeze_count(), "on": gc.isenabled()}
    noted.update(tracked=len(gc.get_objects()), young=gc.get_threshold()[0])
    Path(sys.argv[2]).write_text(json.dumps(noted))

signal.signal(signal.SIGUSR1, note_serving)

start_polling = Updater.start_polling

async def noting(self, *args, **kwargs):
    started = await start_polling(self, *args, **kwargs)
    Path(sys.argv[1]).write_text(json.dumps({"modules": sorted(sys.modules), "on": gc.isenabled()}))
    return started

Updater.start_polling = noting
from bot.entry import main
sys.exit(main(["run"]))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_for(path: Path, process: asyncio.subprocess.Process, seconds: float = 60) -> str:
    for _ in range(int(seconds / 0.05)):
        if path.exists() and path.stat().st_size:
            return path.read_text()
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    raise AssertionError(f"run never polled (exit status {process.returncode})")


async def test_run_polls_before_loading_what_polling_does_not_need_serves_the_desk_after_and_freezes(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    engine = create_engine(url)
    await upgrade_to_head(engine)  # at head: `run` has nothing to migrate
    await engine.dispose()
    world = new_world()
    running = await serve(Sandbox({world.token: world}))
    noted, serving, desk_port = tmp_path / "modules.json", tmp_path / "serving.json", free_port()
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("WEGWEISER_")},
        "WEGWEISER_TELEGRAM_TOKEN": world.token,
        "WEGWEISER_TELEGRAM_API_URL": running.api_url,
        "WEGWEISER_DATABASE_URL": url,
        "WEGWEISER_DATA_DIR": str(tmp_path),
        "WEGWEISER_CASE_DATA_KEY": TEST_CASE_KEY,
        "WEGWEISER_AUDIT_KEY": TEST_AUDIT_KEY,
        "WEGWEISER_DESK_PORT": str(desk_port),
        "WEGWEISER_METRICS_PORT": "0",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        NOTE_MODULES_AT_FIRST_POLL,
        str(noted),
        str(serving),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        noted_polling = json.loads(await wait_for(noted, process))
        modules = set(noted_polling["modules"])
        async with httpx.AsyncClient() as client:
            for _ in range(400):
                try:
                    health = await client.get(f"http://127.0.0.1:{desk_port}/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the desk was never served")
        for _ in range(200):
            if len(world.commands) == 11:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGUSR1)
        noted_serving = json.loads(await wait_for(serving, process))
        modules_serving = set(noted_serving["modules"])
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        await running.stop()

    assert "bot.app" in modules and "telegram.ext" in modules, "the hook saw the bot's own start"
    loaded = sorted(
        name for name in NOT_BEFORE_POLLING if any(m == name or m.startswith(name + ".") for m in modules)
    )
    assert loaded == [], f"loaded before the first getUpdates: {loaded}"
    loaded = sorted(
        name
        for name in NOT_WHILE_SERVING
        if any(m == name or m.startswith(name + ".") for m in modules_serving)
    )
    assert loaded == [], f"loaded while serving, before any page needs them: {loaded}"
    assert (health.status_code, health.text) == (200, "ok")
    assert len(world.commands) == 11, "the command menu in ten languages and the default one"
    # Start-up is over (menus set, desk served): what it built is out of the collector's walks.
    assert noted_serving["frozen"] > 10 * noted_serving["tracked"], noted_serving
    assert noted_serving["young"] == collector.YOUNGEST_THRESHOLD
    # Held off from loading the command until then: no collection walked what was loading.
    assert (noted_polling["on"], noted_serving["on"]) == (False, True)


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    operator_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", TEST_CASE_KEY)
    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", TEST_AUDIT_KEY)
    monkeypatch.setenv("WEGWEISER_METRICS_PORT", "0")


def polls_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens of every getUpdates the sandbox answers."""
    polls: list[str] = []
    original = sandbox_server.METHODS["getupdates"]

    async def counted(world: object, params: dict[str, object], uploads: dict[str, object]) -> object:
        polls.append(getattr(world, "token", ""))
        return await original(world, params, uploads)  # type: ignore[arg-type]

    monkeypatch.setitem(sandbox_server.METHODS, "getupdates", counted)
    return polls


@pytest.mark.usefixtures("operator")
def test_a_desk_port_taken_after_the_check_still_stops_run_before_it_polls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    polls = polls_counted(monkeypatch)
    monkeypatch.setattr("bot.cli.address_free", lambda *_args: None)  # taken only after the check
    with sandbox_in_a_thread() as (running, world), socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", world.token)
        monkeypatch.setenv("WEGWEISER_TELEGRAM_API_URL", running.api_url)
        monkeypatch.setenv("WEGWEISER_DESK_PORT", str(port))

        assert main(["run"]) == 2

    lines = problem_lines(capsys.readouterr().err)
    assert lines == [
        f"wegweiser: WEGWEISER_DESK_PORT: cannot listen on 127.0.0.1:{port} "
        "(the port is in use or not allowed)"
    ]
    assert polls == []


@pytest.mark.usefixtures("operator")
def test_a_desk_that_fails_after_polling_began_stops_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    polls = polls_counted(monkeypatch)

    def broken_desk(*_args: object) -> object:
        raise RuntimeError("the desk cannot be built")

    monkeypatch.setattr(bot.web, "web_app", broken_desk)
    with sandbox_in_a_thread() as (running, world):
        monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", world.token)
        monkeypatch.setenv("WEGWEISER_TELEGRAM_API_URL", running.api_url)
        monkeypatch.setenv("WEGWEISER_DESK_PORT", str(free_port()))

        assert main(["run"]) == 1  # as any unexpected failure of run: logged, exit status 1

    assert polls, "it had begun polling"
    assert "RuntimeError" in capsys.readouterr().err


class Starting:
    """Stands in for an Application: only whether it runs matters to ``bot.startup``."""

    running = False


async def test_work_waits_until_the_application_runs_and_its_failure_is_raised() -> None:
    application = Starting()
    done: list[str] = []

    async def menus() -> None:
        done.append("menus")

    async def desk() -> None:
        raise RuntimeError("the desk cannot be built")

    startup.once_running(application, menus)  # type: ignore[arg-type]
    startup.once_running(application, desk)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert done == []
    application.running = True

    with pytest.raises(RuntimeError, match="desk"):
        await startup.finished(application)  # type: ignore[arg-type]
    assert done == ["menus"]
    with pytest.raises(RuntimeError, match="desk"):
        startup.raise_failure(application)  # type: ignore[arg-type]
