"""What operators watch: /healthz, /readyz, Prometheus metrics on their own address (scraped here
from a running bot), JSON logs through the privacy filter, and an access log without secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from bot.app import build_application, polling, readiness_problems
from bot.logs import JsonPrivacyFormatter
from bot.metrics import Metrics
from bot.sandbox import Sandbox, new_world, serve
from bot.sandbox.world import Fault
from bot.web import loggable_path
from storage.db import create_engine, create_session_factory
from tests.support.cli import free_port
from tests.support.harness import settings_for

PERSON = 424242


async def reply_to(world: object, person_id: int, text: str, count: int = 1) -> None:
    before = len(world.chats[person_id])  # type: ignore[attr-defined]
    await world.person_sends(person_id, text)  # type: ignore[attr-defined]
    for _ in range(500):
        if len(world.chats[person_id]) >= before + 1 + count:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the bot did not answer")


async def scrape_until(port: int, expected: str) -> str:
    """Scrape the metrics until ``expected`` shows (the update is handled in the background)."""
    async with httpx.AsyncClient() as prometheus:
        for _ in range(500):
            metrics = (await prometheus.get(f"http://127.0.0.1:{port}/metrics")).text
            if expected in metrics:
                return metrics
            await asyncio.sleep(0.02)
    raise AssertionError(f"{expected} never appeared in the metrics")


async def test_a_running_bot_is_healthy_ready_and_scraped_without_personal_labels(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = new_world()
    world.add_person(PERSON, "Amira", "ar")
    running = await serve(Sandbox({world.token: world}))
    desk_port, metrics_port = free_port(), free_port()
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", running.api_url, world.token, str(tmp_path)
    ).model_copy(update={"desk_port": desk_port, "metrics_port": metrics_port})
    application = build_application(settings, serve_desk=True)
    sign_in_token = "Zx8" * 15
    try:
        with caplog.at_level(logging.INFO, logger="wegweiser.access"):
            async with polling(application, poll_timeout=1):
                await reply_to(world, PERSON, "/start")
                world.faults.append(Fault("sendMessage", "retry_after", count=1, retry_after=1))
                await reply_to(world, PERSON, "/help")
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{desk_port}") as desk:
                    health = await desk.get("/healthz")
                    ready = await desk.get("/readyz")
                    await desk.get(f"/desk/signin/{sign_in_token}?next=/desk/cases/17")
                world.faults.append(Fault("sendMessage", "server_error", count=1))
                await world.person_sends(PERSON, "/help")
                metrics = await scrape_until(metrics_port, "wegweiser_errors_total{")
    finally:
        await running.stop()

    assert (health.status_code, health.text) == (200, "ok")
    assert (ready.status_code, ready.text) == (200, "ready")
    assert 'wegweiser_updates_total{kind="message"} 3.0' in metrics
    assert 'wegweiser_update_handling_seconds_count{kind="message"} 3.0' in metrics
    assert 'wegweiser_errors_total{kind="NetworkError"} 1.0' in metrics
    assert 'wegweiser_bot_api_calls_total{method="sendMessage",outcome="ok"}' in metrics
    assert 'wegweiser_bot_api_rate_limited_total{method="sendMessage"} 1.0' in metrics
    assert 'wegweiser_reminders{status="due"} 0.0' in metrics
    assert "wegweiser_reminder_dispatcher_lag_seconds 0.0" in metrics
    assert "wegweiser_db_pool_wait_seconds_count" in metrics
    assert "wegweiser_telegram_last_contact_timestamp_seconds" in metrics
    assert str(PERSON) not in metrics and "Amira" not in metrics, "no label names a person"
    access = [record.getMessage() for record in caplog.records if record.name == "wegweiser.access"]
    assert "GET /healthz 200" in access[0] and "GET /readyz 200" in access[1]
    assert access[2].startswith("GET /desk/signin/… ")
    assert not any(sign_in_token in line or "next=" in line or "cases" in line for line in access)


async def test_the_desk_does_not_serve_the_metrics(tmp_path: Path) -> None:
    world = new_world()
    running = await serve(Sandbox({world.token: world}))
    desk_port = free_port()
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", running.api_url, world.token, str(tmp_path)
    ).model_copy(update={"desk_port": desk_port, "metrics_port": 0})
    try:
        async with (
            polling(build_application(settings, serve_desk=True), poll_timeout=1),
            httpx.AsyncClient() as client,
        ):
            answer = await client.get(f"http://127.0.0.1:{desk_port}/metrics")
    finally:
        await running.stop()
    assert answer.status_code == 404


async def test_readiness_names_what_is_missing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        runtime = SimpleNamespace(sessions=create_session_factory(engine))
        problems = await readiness_problems(runtime, Metrics())  # type: ignore[arg-type]
    finally:
        await engine.dispose()
    assert problems == ["database: migrations are not at head", "telegram: no answer recently"]


def test_access_log_paths_hide_tokens() -> None:
    assert loggable_path("/desk/signin/abcdefghijklmnopqrstuvwxyz012345") == "/desk/signin/…"
    assert loggable_path("/desk/calendar/abcdefghijklmnopqrstuv.ics") == "/desk/calendar/…"
    assert loggable_path("/desk/cases/17") == "/desk/cases/17"


def test_json_logs_go_through_the_same_privacy_filter() -> None:
    token = "123456:SECRET-token-value"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonPrivacyFormatter((token,)))
    logger = logging.getLogger("test.json")
    logger.handlers[:] = [handler]
    logger.propagate = False
    error = ValueError("could not store " + "Amira Haddad")
    try:
        raise error
    except ValueError:
        logger.exception("calling /bot%s/sendMessage failed", token)

    entry = json.loads(stream.getvalue())
    assert entry["level"] == "ERROR" and entry["logger"] == "test.json"
    assert entry["message"] == "calling /bot[redacted]/sendMessage failed"
    assert "builtins.ValueError" in entry["exception"] and "Amira" not in stream.getvalue()
