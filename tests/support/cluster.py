"""Several real ``wegweiser run`` processes in webhook mode behind the loopback balancer, on one
PostgreSQL database, fed by the sandbox running in this process: the multi-instance proof and the
instances benchmark use it. Everything listens on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select, update

from bot.sandbox import World
from storage import advisors as advisor_rules
from storage import booking, consent, offer_files, people
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Reminder, ReminderStatus, Role
from tests.support.balancer import Balancer, free_port
from tests.support.harness import TEST_AUDIT_KEY, TEST_CASE_KEY

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_PATH = "/telegram/webhook"
WEBHOOK_SECRET = "cluster-webhook-secret-0123456789-abcdefghij"
ALL_DAY = "08:00-20:00"


class InstanceProcess:
    """One ``wegweiser run`` process; it can be killed, stopped and started again."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path):
        self.name = name
        self.port = free_port()
        self.env = {**env, "WEGWEISER_DESK_PORT": str(self.port), "WEGWEISER_METRICS_PORT": "0"}
        self.log_path = workdir / f"{name}.log"
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, timeout: float = 90) -> None:
        """Wait until the instance's web server answers its health check."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} did not start: {self.log_tail()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, in the middle of whatever it was doing."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    async def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, and wait until the process has finished what it received; its exit code, or
        ``None`` when it had to be killed after ``timeout`` seconds."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def instance_env(
    world: World, api_url: str, database_url: str, webhook_base: str | None, **settings: str
) -> dict[str, str]:
    """The environment of every instance: identical settings, only the port differs. Without a
    ``webhook_base`` the instance long-polls (one instance only)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEGWEISER_")}
    loopback = "127.0.0.1,localhost,::1"
    env.update(
        {
            "NO_PROXY": loopback,
            "no_proxy": loopback,
            "PYTHONPATH": str(ROOT),
            "WEGWEISER_TELEGRAM_TOKEN": world.token,
            "WEGWEISER_TELEGRAM_API_URL": api_url,
            "WEGWEISER_DATABASE_URL": database_url,
            "WEGWEISER_CASE_DATA_KEY": TEST_CASE_KEY,
            "WEGWEISER_AUDIT_KEY": TEST_AUDIT_KEY,
            "WEGWEISER_DESK_HOST": "127.0.0.1",
            "WEGWEISER_LOG_LEVEL": "WARNING",
        }
    )
    if webhook_base is not None:
        env["WEGWEISER_WEBHOOK_URL"] = webhook_base + WEBHOOK_PATH
        env["WEGWEISER_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    env.update({f"WEGWEISER_{key.upper()}": value for key, value in settings.items()})
    return env


class Cluster:
    """``count`` instances behind one balancer; the sandbox posts updates to the balancer. With
    ``webhook=False`` one instance long-polls instead (the single-instance default)."""

    def __init__(
        self,
        world: World,
        api_url: str,
        database_url: str,
        workdir: Path,
        count: int,
        *,
        webhook: bool = True,
        **settings: str,
    ):
        self.balancer = Balancer([])
        self.world = world
        self.api_url = api_url
        self.database_url = database_url
        self.workdir = workdir
        self.count = count
        self.settings = settings
        self.webhook = webhook
        self.instances: list[InstanceProcess] = []

    async def start(self) -> None:
        await self.balancer.start()
        webhook_base = self.balancer.url if self.webhook else None
        env = instance_env(self.world, self.api_url, self.database_url, webhook_base, **self.settings)
        self.instances = [InstanceProcess(f"instance-{n}", env, self.workdir) for n in range(self.count)]
        self.balancer.backends[:] = [instance.url for instance in self.instances]
        self.balancer.forwarded = dict.fromkeys(self.balancer.backends, 0)
        for instance in self.instances:
            instance.start()
        await asyncio.gather(*(instance.ready() for instance in self.instances))

    async def restart(self, instance: InstanceProcess, *, kill: bool) -> None:
        """Kill (SIGKILL) or stop (SIGTERM) one instance, start it again and wait until it is up."""
        if kill:
            instance.kill()
        else:
            assert await instance.stop() == 0, instance.log_tail()
        instance.start()
        await instance.ready()

    async def stop(self) -> list[int | None]:
        codes = list(await asyncio.gather(*(instance.stop() for instance in self.instances)))
        await self.balancer.stop()
        return codes


@dataclass(frozen=True)
class Seeded:
    """Who the seeded database knows: advisors, and people with a reminder falling due."""

    advisors: list[int]
    reminded: list[int]


async def seed_consultations(
    database_url: str,
    world: World,
    zone: ZoneInfo,
    now: datetime,
    *,
    advisors: Iterable[int],
    reminded: Sequence[int],
    offers: Path | None = None,
) -> Seeded:
    """Migrate, then: advisors with hours every day 08:00-20:00 and one appointment today each (so
    each gets a morning digest); ``reminded`` people with one appointment in two days, whose
    two-hour reminder is made due later by ``reminders_fall_due``. Every other reminder is set aside.
    ``offers`` is an offer directory file to import."""
    engine = create_engine(database_url)
    advisor_ids = list(advisors)
    policy = booking.BookingPolicy(
        zone=zone,
        min_notice=timedelta(0),
        window=timedelta(days=30),
        max_open=5,
        change_cutoff=timedelta(0),
        first_minutes=60,
        follow_up_minutes=30,
    )
    today = now.astimezone(zone).date()
    yesterday = datetime.combine(today - timedelta(days=1), datetime.min.time(), zone)
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            if offers is not None:
                await offer_files.import_offers(session, offers, now)
            staff = []
            for number, telegram_id in enumerate(advisor_ids):
                world.add_person(telegram_id, f"Advisor {number}", "de").started = True
                advisor = await people.add_staff(session, telegram_id, Role.ADVISOR, f"Advisor {number}", now)
                advisor.language = "de"
                for weekday in range(7):
                    await advisor_rules.set_weekly_hours(session, advisor.id, weekday, ALL_DAY)
                profile = await advisor_rules.profile(session, advisor.id)
                profile.languages = ["de", "en", "ar", "uk"]
                staff.append(advisor)

            async def appointment_for(
                telegram_id: int, advisor_id: int, starts_at: datetime, booked_at: datetime
            ):
                person = await people.ensure_person(session, telegram_id, booked_at)
                person.language = "de"
                await consent.give_consent(session, person.id, consent.Purpose.BOOKING, "de", booked_at)
                return await booking.book(
                    session,
                    policy,
                    booked_at,
                    person=person,
                    advisor_id=advisor_id,
                    starts_at=starts_at,
                    topic="housing",
                    language="de",
                    interpreter=False,
                    first_name=f"Person {telegram_id}",
                )

            morning = datetime.combine(today, datetime.min.time(), zone).replace(hour=8)
            for advisor in staff:
                await appointment_for(advisor.telegram_id + 500_000, advisor.id, morning, yesterday)
            await session.flush()
            await session.execute(update(Reminder).values(status=ReminderStatus.DROPPED))
            later = datetime.combine(today + timedelta(days=2), datetime.min.time(), zone)
            for number, telegram_id in enumerate(reminded):
                world.add_person(telegram_id, f"Person {number}", "de").started = True
                advisor = staff[number % len(staff)]
                starts_at = later.replace(hour=8 + number // len(staff))
                appointment = await appointment_for(telegram_id, advisor.id, starts_at, now)
                await session.flush()
                await session.execute(
                    update(Reminder)
                    .where(Reminder.appointment_id == appointment.id, Reminder.kind == "before_2h")
                    .values(status=ReminderStatus.PENDING, due_at=now + timedelta(days=1))
                )
                await session.execute(
                    update(Reminder)
                    .where(Reminder.appointment_id == appointment.id, Reminder.kind != "before_2h")
                    .values(status=ReminderStatus.DROPPED)
                )
    finally:
        await engine.dispose()
    return Seeded(advisor_ids, list(reminded))


async def reminders_fall_due(database_url: str, within: timedelta) -> None:
    """Make every pending reminder due at moments spread over the next ``within``."""
    engine = create_engine(database_url)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            pending = (
                await session.scalars(
                    select(Reminder).where(Reminder.status == ReminderStatus.PENDING).order_by(Reminder.id)
                )
            ).all()
            now = datetime.now(UTC)
            for number, reminder in enumerate(pending):
                reminder.due_at = now + within * (number + 1) / len(pending)
    finally:
        await engine.dispose()
