"""Webhook mode with one instance: Telegram's secret header is required, bad bodies are refused,
updates are recorded before the 200 and handled once, and the bot switches between polling and
webhook in both directions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import build_application, polling
from bot.config import SettingsError, load_settings
from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve
from bot.webhook import MAX_BODY_BYTES, MAX_CONNECTIONS, SECRET_HEADER, requeue_stranded
from storage import updates
from storage.db import create_engine, session_scope
from storage.migrate import upgrade_to_head
from storage.models import ProcessedUpdate
from tests.multi.instances import WEBHOOK_PATH, WEBHOOK_SECRET, WebhookInstance
from tests.support.harness import Clock, TrackingApplication, settings_for

PERSON = 1001


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[RunningSandbox, World]]:
    world = new_world()
    world.add_person(PERSON, "Amira", "de")
    running = await serve(Sandbox({world.token: world}))
    try:
        yield running, world
    finally:
        await running.stop()


@pytest.fixture
async def instance(sandbox: tuple[RunningSandbox, World], tmp_path: Path) -> AsyncIterator[WebhookInstance]:
    running, world = sandbox
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", running.api_url, world.token, str(tmp_path)
    )
    instance = WebhookInstance(settings, Clock())
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()
    assert world.refusals == []


async def processed(instance: WebhookInstance, update_id: int) -> None:
    assert instance.application is not None
    await asyncio.wait_for(instance.application.done_event(update_id).wait(), 15)


async def recorded_updates(instance: WebhookInstance) -> int:
    engine = create_engine(instance.settings.resolved_database_url())
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(ProcessedUpdate))).scalar_one()
            )
    finally:
        await engine.dispose()


def an_update(update_id: int, text: str = "/start") -> dict:
    person = {"id": PERSON, "is_bot": False, "first_name": "Amira", "language_code": "de"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": PERSON, "type": "private", "first_name": "Amira"},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_the_sandbox_delivers_to_the_webhook_and_refuses_get_updates_meanwhile(
    sandbox: tuple[RunningSandbox, World], instance: WebhookInstance
) -> None:
    running, world = sandbox
    update_id = await world.person_sends(PERSON, "/start")
    await processed(instance, update_id)

    assert any(message.sender == "bot" for message in world.chats[PERSON])
    assert "setWebhook" in world.calls and "getUpdates" not in world.calls
    info = world.webhook_info()
    assert info["url"] == instance.settings.webhook_url
    assert info["max_connections"] == MAX_CONNECTIONS
    assert "callback_query" in info["allowed_updates"]
    assert world.webhook_log.accepted == {update_id: 1}
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{running.api_url}{world.token}/getUpdates")
    assert answer.status_code == 409
    world.refusals.clear()  # that refusal was this test's own call, not the bot's


@pytest.mark.parametrize(
    "header", [None, "", "wrong-secret-of-sufficient-length-0123456789", WEBHOOK_SECRET[:-1]]
)
async def test_a_request_without_the_exact_secret_is_refused_and_nothing_is_processed(
    sandbox: tuple[RunningSandbox, World], instance: WebhookInstance, header: str | None
) -> None:
    _running, world = sandbox
    headers = {SECRET_HEADER: header} if header is not None else {}
    async with httpx.AsyncClient() as client:
        answer = await client.post(instance.url + WEBHOOK_PATH, json=an_update(500), headers=headers)
    assert answer.status_code == 403
    await asyncio.sleep(0.2)
    assert await recorded_updates(instance) == 0
    assert world.chats[PERSON] == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'{"message": {"text": "no update id"}}',
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "not an object"}',
        b"\xff\xfe",
        json.dumps(an_update(7, "/start" + "x" * MAX_BODY_BYTES)).encode(),
    ],
)
async def test_an_oversized_or_malformed_body_is_refused(instance: WebhookInstance, body: bytes) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            instance.url + WEBHOOK_PATH,
            content=body,
            headers={SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    assert await recorded_updates(instance) == 0


async def test_an_update_delivered_twice_is_recorded_and_handled_once(
    sandbox: tuple[RunningSandbox, World], instance: WebhookInstance
) -> None:
    _running, world = sandbox
    world.people[PERSON].started = True
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            answer = await client.post(
                instance.url + WEBHOOK_PATH, json=an_update(900), headers={SECRET_HEADER: WEBHOOK_SECRET}
            )
            assert answer.status_code == 200
    await processed(instance, 900)
    await asyncio.sleep(0.3)
    assert len([m for m in world.chats[PERSON] if m.sender == "bot"]) == 1
    assert await recorded_updates(instance) == 1


async def test_an_update_recorded_by_an_instance_that_died_is_handled_by_another(
    sandbox: tuple[RunningSandbox, World], instance: WebhookInstance
) -> None:
    _running, world = sandbox
    world.people[PERSON].started = True
    application = instance.application
    assert application is not None
    sessions = application.bot_data.runtime.sessions
    long_ago = datetime.now(UTC) - timedelta(minutes=1)
    async with session_scope(sessions) as session:
        await updates.record_update(session, 77, PERSON, json.dumps(an_update(77)), long_ago)

    assert await requeue_stranded(application, sessions) == 1
    await processed(instance, 77)
    assert await requeue_stranded(application, sessions) == 0
    assert [m.sender for m in world.chats[PERSON]] == ["bot"]


async def test_switching_from_polling_to_webhook_and_back(
    sandbox: tuple[RunningSandbox, World], tmp_path: Path
) -> None:
    running, world = sandbox
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", running.api_url, world.token, str(tmp_path)
    )
    engine = create_engine(settings.resolved_database_url())
    await upgrade_to_head(engine)
    await engine.dispose()

    async def answered_while_polling() -> None:
        application = build_application(settings, clock=Clock(), application_class=TrackingApplication)
        assert isinstance(application, TrackingApplication)
        async with polling(application, poll_timeout=1):
            update_id = await world.person_sends(PERSON, "/help")
            await asyncio.wait_for(application.done_event(update_id).wait(), 15)

    await answered_while_polling()
    webhook = WebhookInstance(settings, Clock())
    await webhook.start()
    try:
        assert world.webhook_url == webhook.settings.webhook_url
        update_id = await world.person_sends(PERSON, "/help")
        await processed(webhook, update_id)
    finally:
        await webhook.stop()
    await answered_while_polling()

    assert world.webhook_url == ""
    assert world.calls.count("setWebhook") == 1
    assert world.calls.count("deleteWebhook") == 2
    assert len([m for m in world.chats[PERSON] if m.sender == "bot"]) == 3


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"webhook_url": "https://bot.example.org/telegram"}, "WEGWEISER_WEBHOOK_SECRET: is required"),
        ({"webhook_url": "https://bot.example.org/t", "webhook_secret": "too-short"}, "32 to 256"),
        ({"webhook_url": "https://bot.example.org/t", "webhook_secret": "x" * 31 + "!"}, "32 to 256"),
        ({"webhook_url": "http://bot.example.org/t", "webhook_secret": "x" * 32}, "public https://"),
    ],
)
def test_webhook_mode_needs_a_public_https_address_and_a_strong_secret(overrides: dict, problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings(**overrides)
    assert load_settings(webhook_url="https://bot.example.org/t", webhook_secret="x" * 32).webhook_url
