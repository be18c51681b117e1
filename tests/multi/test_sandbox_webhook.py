"""The sandbox delivers webhooks the way Telegram does: the secret header on every request,
redelivery after an error answer or a timeout with growing delays, never more than
``max_connections`` requests at once, each person's updates in order, and getUpdates refused
while a webhook is set."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve
from bot.sandbox.webhook import SECRET_HEADER

SECRET = "sandbox-test-secret"


@dataclass
class Receiver:
    """A webhook endpoint that writes down what arrives and answers as told."""

    answer: Callable[[dict, int], int] = lambda _update, _attempt: 200
    delay: float = 0.0
    arrivals: list[tuple[float, dict, str | None]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        update = json.loads(await request.body())
        self.arrivals.append((time.monotonic(), update, request.headers.get(SECRET_HEADER)))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        attempt = sum(1 for _, seen, _ in self.arrivals if seen["update_id"] == update["update_id"])
        await Response(status_code=self.answer(update, attempt))(scope, receive, send)

    def attempts(self, update_id: int) -> list[float]:
        return [at for at, update, _ in self.arrivals if update["update_id"] == update_id]


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[str]:
    config = uvicorn.Config(receiver, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hook"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[RunningSandbox, World]]:
    world = new_world()
    world.redelivery_delays = (0.1, 0.2, 0.4)
    for person_id in range(1, 21):
        world.add_person(person_id, f"Person {person_id}", "de")
    running = await serve(Sandbox({world.token: world}))
    try:
        yield running, world
    finally:
        await running.stop()


async def call(running: RunningSandbox, world: World, method: str, **params: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{running.api_url}{world.token}/{method}", json=params)


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the sandbox did not deliver in time"
        await asyncio.sleep(0.02)


async def test_each_update_is_posted_with_the_secret_and_get_updates_is_refused(
    sandbox: tuple[RunningSandbox, World],
) -> None:
    running, world = sandbox
    receiver = Receiver()
    async with receiving(receiver) as url:
        assert (await call(running, world, "setWebhook", url=url, secret_token=SECRET)).json()["ok"]
        update_id = await world.person_sends(1, "hello")
        await until(lambda: world.webhook_log.accepted == {update_id: 1})
        assert (await call(running, world, "getUpdates")).status_code == 409
        info = (await call(running, world, "getWebhookInfo")).json()["result"]
    ((_, update, secret),) = receiver.arrivals
    assert update["message"]["text"] == "hello" and secret == SECRET
    assert info["url"] == url and info["pending_update_count"] == 0


async def test_an_error_answer_is_delivered_again_after_growing_delays(
    sandbox: tuple[RunningSandbox, World],
) -> None:
    running, world = sandbox
    receiver = Receiver(answer=lambda _update, attempt: 200 if attempt == 4 else 500)
    async with receiving(receiver) as url:
        await call(running, world, "setWebhook", url=url, secret_token=SECRET)
        update_id = await world.person_sends(1, "hello")
        await until(lambda: update_id in world.webhook_log.accepted)
        info = (await call(running, world, "getWebhookInfo")).json()["result"]
    times = receiver.attempts(update_id)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) == 4
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4, "each wait at least as long as its delay"
    assert "500" in info["last_error_message"]


async def test_no_answer_within_the_timeout_counts_as_a_failure(
    sandbox: tuple[RunningSandbox, World],
) -> None:
    running, world = sandbox
    world.webhook_timeout = 0.3
    slow = Receiver(delay=1.0)
    async with receiving(slow) as url:
        await call(running, world, "setWebhook", url=url, secret_token=SECRET)
        update_id = await world.person_sends(1, "hello")
        await until(lambda: len(slow.attempts(update_id)) == 2)
        slow.delay = 0.0
        await until(lambda: update_id in world.webhook_log.accepted)
    assert world.webhook_log.attempts[update_id] >= 3
    assert "timeout" in (world.webhook_log.last_error_message or "").lower()


async def test_at_most_max_connections_requests_are_in_flight_and_each_person_stays_in_order(
    sandbox: tuple[RunningSandbox, World],
) -> None:
    running, world = sandbox
    receiver = Receiver(delay=0.05)
    async with receiving(receiver) as url:
        await call(running, world, "setWebhook", url=url, secret_token=SECRET, max_connections=4)
        sent = [
            await world.person_sends(person_id, f"message {n}")
            for n in range(3)
            for person_id in range(1, 21)
        ]
        await until(lambda: len(world.webhook_log.accepted) == len(sent))
    assert receiver.most_in_flight == 4
    for person_id in range(1, 21):
        texts = [
            u["message"]["text"] for _, u, _ in receiver.arrivals if u["message"]["from"]["id"] == person_id
        ]
        assert texts == ["message 0", "message 1", "message 2"]


async def test_delete_webhook_stops_delivery_and_brings_get_updates_back(
    sandbox: tuple[RunningSandbox, World],
) -> None:
    running, world = sandbox
    receiver = Receiver(answer=lambda _update, _attempt: 500)
    async with receiving(receiver) as url:
        await call(running, world, "setWebhook", url=url, secret_token=SECRET)
        update_id = await world.person_sends(1, "hello")
        await until(lambda: len(receiver.arrivals) >= 1)
        assert (await call(running, world, "deleteWebhook")).json()["result"] is True
        tried = len(receiver.arrivals)
        await asyncio.sleep(0.5)
    assert len(receiver.arrivals) == tried
    polled = (await call(running, world, "getUpdates")).json()["result"]
    assert [update["update_id"] for update in polled] == [update_id]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"url": "http://example.org/hook"}, "bad webhook"),
        ({"url": "ftp://127.0.0.1/hook"}, "HTTPS URL must be provided"),
        ({"url": "http://127.0.0.1:9/hook", "secret_token": "not allowed!"}, "secret token"),
        ({"url": "http://127.0.0.1:9/hook", "max_connections": 101}, "max_connections"),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    sandbox: tuple[RunningSandbox, World], params: dict, description: str
) -> None:
    running, world = sandbox
    answer = await call(running, world, "setWebhook", **params)
    assert answer.status_code == 400
    assert description in answer.json()["description"]
    assert world.webhook_url == ""


async def test_instances_setting_the_same_webhook_at_once_get_one_delivery(
    sandbox: tuple[RunningSandbox, World],
) -> None:
    running, world = sandbox
    receiver = Receiver(delay=0.05)
    async with receiving(receiver) as url:
        await asyncio.gather(
            *(call(running, world, "setWebhook", url=url, secret_token=SECRET) for _ in range(3))
        )
        sent = [await world.person_sends(person_id, "hello") for person_id in range(1, 11)]
        await until(lambda: len(world.webhook_log.accepted) == len(sent))
        await asyncio.sleep(0.3)
    assert sorted(update["update_id"] for _, update, _ in receiver.arrivals) == sent
