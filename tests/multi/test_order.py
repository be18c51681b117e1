"""One person's updates stay in order when they reach different instances: the second instance
waits for the person's turn (``storage.updates.take_turn``) until the first has finished."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve
from bot.sandbox.world import Fault
from storage.db import create_engine
from storage.migrate import upgrade_to_head
from tests.multi.instances import WebhookInstance
from tests.support.balancer import Balancer
from tests.support.databases import empty_all_tables
from tests.support.harness import Clock, settings_for

PERSON = 1001
WORDS = ("zzqalpha", "zzqbravo", "zzqcharlie", "zzqdelta")


@pytest.fixture
async def two_instances(
    postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[World, Balancer, list[WebhookInstance]]]:
    """Two instances on one PostgreSQL database behind the balancer, fed by the sandbox."""
    engine = create_engine(postgres_url)
    await upgrade_to_head(engine)
    await empty_all_tables(engine)
    await engine.dispose()
    world = new_world()
    world.add_person(PERSON, "Amira", "de")
    running: RunningSandbox = await serve(Sandbox({world.token: world}))
    settings = settings_for(postgres_url, running.api_url, world.token, str(tmp_path))
    instances = [WebhookInstance(settings, Clock()) for _ in range(2)]
    balancer = Balancer([instance.url for instance in instances])
    await balancer.start()
    for instance in instances:
        instance.settings = instance.settings.model_copy(
            update={"webhook_url": balancer.url + "/telegram/webhook"}
        )
        await instance.start()
    try:
        yield world, balancer, instances
    finally:
        for instance in instances:
            await instance.stop()
        await balancer.stop()
        await running.stop()
    assert world.refusals == []


async def test_a_persons_messages_are_answered_in_order_across_two_instances(
    two_instances: tuple[World, Balancer, list[WebhookInstance]],
) -> None:
    world, balancer, _instances = two_instances
    await world.person_sends(PERSON, "/start")
    await until_answers(world, 1)
    # The first answer is held up by Telegram (429, retry after a second): without turns the
    # other instance would answer the second message first.
    world.faults.append(Fault("sendMessage", "retry_after", 1, 1))
    for word in WORDS:
        await world.person_sends(PERSON, word)

    answers = await until_answers(world, 1 + len(WORDS))

    answered = [next(word for word in WORDS if word in answer) for answer in answers[1:]]
    assert answered == list(WORDS)
    assert all(count > 0 for count in balancer.forwarded.values()), "both instances took updates"


async def until_answers(world: World, count: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        answers = [message.text for message in world.chats[PERSON] if message.sender == "bot"]
        if len(answers) >= count:
            return answers
        assert time.monotonic() < deadline, f"only {len(answers)} answers: {answers}"
        await asyncio.sleep(0.05)
