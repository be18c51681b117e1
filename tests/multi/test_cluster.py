"""The proof, end to end with real processes on PostgreSQL: three ``wegweiser run`` instances in
webhook mode behind the loopback balancer; 200 simulated people browse, book, move and cancel while
reminders fall due and the morning digest goes out; one instance is killed with SIGKILL twice and
started again, and at the end a rolling restart takes each instance down in turn. Afterwards every
update was handled once, no bookings overlap, each reminder and each digest went out once, and the
sandbox recorded no violation of Telegram's rules."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve
from storage.db import create_engine, create_session_factory
from storage.models import Appointment, AppointmentStatus, Person, ProcessedUpdate, Reminder, ReminderStatus
from tests.multi.crowd import Phone, a_persons_visit
from tests.support.cluster import Cluster, Seeded, reminders_fall_due, seed_consultations
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_available
from tests.support.harness import OFFERS_FIXTURE

ZONE = ZoneInfo("Europe/Berlin")
PEOPLE = range(10_001, 10_201)  # 200 people
ADVISORS = range(9_001, 9_005)
REMINDED = range(20_001, 20_041)  # 40 people whose reminder falls due during the run
PATIENCE = 20.0
DIGEST_AFTER = timedelta(seconds=60)
# An update being handled in the instance that is killed is lost, never handled twice: at most the
# instance's concurrent updates, per kill.
MOST_INTERRUPTED_PER_KILL = 16


@pytest.fixture
def database_url() -> AsyncIterator[str]:
    reason = postgres_available()
    if reason is not None:
        pytest.skip(reason)
    name, url = create_postgres_database()
    yield url
    drop_postgres_database(name)


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[RunningSandbox, World]]:
    world = new_world()
    world.webhook_timeout = 20
    running = await serve(Sandbox({world.token: world}))
    try:
        yield running, world
    finally:
        await running.stop()


async def test_three_instances_survive_kills_and_a_rolling_restart_without_losing_or_doubling(
    sandbox: tuple[RunningSandbox, World], database_url: str, tmp_path: Path
) -> None:
    running, world = sandbox
    started = datetime.now(UTC)
    seeded = await seed_consultations(
        database_url,
        world,
        ZONE,
        started,
        advisors=ADVISORS,
        reminded=list(REMINDED),
        offers=OFFERS_FIXTURE,
    )
    # The morning digest is due once the instances are surely up (seconds are allowed in the setting).
    digest_at = (datetime.now(UTC) + DIGEST_AFTER).astimezone(ZONE).replace(microsecond=0)
    cluster = Cluster(
        world,
        running.api_url,
        database_url,
        tmp_path,
        3,
        reminder_interval_seconds="2",
        agenda_digest_time=digest_at.strftime("%H:%M:%S"),
    )
    rng = random.Random(11)
    for number, person_id in enumerate(PEOPLE):
        world.add_person(person_id, f"Person {number}", ("de", "ar", "uk", "en")[number % 4])
    phones = [Phone(world, person_id, PATIENCE, random.Random(rng.random())) for person_id in PEOPLE]

    phases = Phases()
    await cluster.start()
    phases.done("three instances started")
    assert datetime.now(UTC) < digest_at, "the instances started after the digest was due: too slow a machine"
    try:
        crowd_started = time.monotonic()
        crowd = asyncio.gather(*(a_persons_visit(phone, number) for number, phone in enumerate(phones)))
        victim = cluster.instances[0]
        for after in (4.0, 14.0):
            await sleep_until(crowd_started + after, avoiding=digest_at)
            await cluster.restart(victim, kill=True)
        # Reminders fall due while people are still busy. (A reminder being sent by a killed
        # instance is sent again only after storage.reminders.STUCK_AFTER, far beyond this test.)
        await reminders_fall_due(database_url, timedelta(seconds=10))
        await crowd
        phases.done("200 people served, one instance killed twice")
        await until(lambda: digests_sent(world, seeded) == len(seeded.advisors), 120)
        phases.done("morning digest")
        for instance in cluster.instances:  # the rolling restart, with people still writing
            writing = asyncio.gather(*(phone.send("/help") for phone in phones[:20]))
            await cluster.restart(instance, kill=False)
            await writing
        phases.done("rolling restart")
        await until(lambda: not world.pending_updates, 60)
        await until_reminders_sent(database_url, len(seeded.reminded))
    finally:
        codes = await cluster.stop()
    phases.done("stopped")
    assert codes == [0, 0, 0], [instance.log_tail() for instance in cluster.instances]

    await assert_every_update_handled_once(world, database_url, kills=2)
    await assert_no_overlapping_bookings(database_url)
    reminders = Counter(m.sender for p in seeded.reminded for m in world.chats[p] if "⏰" in m.text)
    assert reminders == Counter({"bot": len(seeded.reminded)}), "each reminder exactly once"
    assert all(sum("⏰" in m.text for m in world.chats[p]) == 1 for p in seeded.reminded)
    assert digests_sent(world, seeded) == len(seeded.advisors)
    assert all(sum("☀" in m.text for m in world.chats[a]) == 1 for a in seeded.advisors), "one digest each"
    refused = [(method, why) for method, why in world.refusals if "message is not modified" not in why]
    assert refused == [], "the sandbox recorded violations of Telegram's rules"
    assert all(count > 0 for count in cluster.balancer.forwarded.values())


class Phases:
    """How long each phase took, printed with ``pytest -s`` to size the proof."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def done(self, phase: str) -> None:
        now = time.monotonic()
        print(f"{phase}: {now - self.last:.1f}s")
        self.last = now


def digests_sent(world: World, seeded: Seeded) -> int:
    return sum(1 for advisor in seeded.advisors for m in world.chats[advisor] if "☀" in m.text)


async def sleep_until(moment: float, *, avoiding: datetime) -> None:
    """Sleep until ``moment`` (monotonic), but not into the seconds around the digest."""
    await asyncio.sleep(max(0.0, moment - time.monotonic()))
    to_digest = (avoiding - datetime.now(UTC)).total_seconds()
    if -5 < to_digest < 3:
        await asyncio.sleep(to_digest + 5)


async def until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.2)


async def until_reminders_sent(database_url: str, expected: int, timeout: float = 60) -> None:
    engine = create_engine(database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with create_session_factory(engine)() as session:
                statuses = Counter(
                    (await session.scalars(select(Reminder.status).where(Reminder.status != "dropped"))).all()
                )
            if statuses.get(ReminderStatus.SENT, 0) >= expected and not statuses.get(ReminderStatus.SENDING):
                return
            assert time.monotonic() < deadline, f"reminders not sent: {statuses}"
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def assert_every_update_handled_once(world: World, database_url: str, kills: int) -> None:
    """Every update was accepted once by an instance and claimed once; the only ones that did not
    finish were being handled by a killed instance, and their taps are the only unanswered ones."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = (await session.execute(select(ProcessedUpdate))).scalars().all()
    finally:
        await engine.dispose()
    recorded = {row.update_id: row for row in rows}
    sent = set(world.sent_updates)
    assert sent <= recorded.keys(), f"lost updates: {sorted(sent - recorded.keys())[:20]}"
    accepted, attempts = world.webhook_log.accepted, world.webhook_log.attempts
    not_once = {u: (accepted.get(u), attempts.get(u)) for u in sent if accepted.get(u) != 1}
    assert not_once == {}, f"accepted other than once (accepted, attempts): {not_once}"
    unhandled = [update_id for update_id in sent if recorded[update_id].handled_at is None]
    assert unhandled == [], f"recorded but never handled: {unhandled[:20]}"
    interrupted = {update_id for update_id in sent if recorded[update_id].busy_until is not None}
    assert len(interrupted) <= kills * MOST_INTERRUPTED_PER_KILL
    unanswered = {
        update_id
        for update_id, update in world.sent_updates.items()
        if "callback_query" in update and not world.callback_queries[update["callback_query"]["id"]].answered
    }
    assert unanswered <= interrupted, "a tap went unanswered without its instance being killed"
    print(f"\n{len(sent)} updates, {len(interrupted)} interrupted by the kills")


async def assert_no_overlapping_bookings(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            everything = (await session.scalars(select(Appointment))).all()
            booked = [a for a in everything if a.status == AppointmentStatus.BOOKED]
            people_count = len((await session.scalars(select(Person.id))).all())
    finally:
        await engine.dispose()
    assert people_count > len(PEOPLE)
    cancelled = sum(1 for a in everything if a.status == AppointmentStatus.CANCELLED)
    print(f"{len(everything)} appointments ({len(ADVISORS) + len(REMINDED)} seeded), {cancelled} cancelled")
    for key in ("advisor_id", "person_id"):
        by_owner: dict[int, list[Appointment]] = {}
        for appointment in booked:
            by_owner.setdefault(getattr(appointment, key), []).append(appointment)
        for appointments in by_owner.values():
            appointments.sort(key=lambda a: a.starts_at)
            for earlier, later in itertools.pairwise(appointments):
                assert earlier.ends_at <= later.starts_at, f"overlapping bookings {earlier.id} and {later.id}"
