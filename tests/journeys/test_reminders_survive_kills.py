"""Reminders arrive once even when the bot is killed while sending them: ``wegweiser run`` runs in
its own process and is killed (SIGKILL) at the instant the stand-in accepts a reminder, again and
again. A kill may repeat only what was in flight at that instant, and nothing arrives three times."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.sandbox import ChatMessage, Sandbox, new_world, serve
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Appointment, Case, Person, Reminder
from storage.reminders import STUCK_AFTER
from tests.support.bot_process import BotProcess

PEOPLE = 60
FIRST_ID = 820_000
KILL_AFTER = (4, 9, 2, 13)  # reminders accepted in each run before its kill


class Chat(list[ChatMessage]):
    """A chat that notes when each bot message arrives, and kills the bot at a chosen arrival."""

    def __init__(self, trigger: KillSwitch) -> None:
        super().__init__()
        self.trigger = trigger
        self.arrivals: list[float] = []

    def append(self, message: ChatMessage) -> None:
        super().append(message)
        if message.sender == "bot":
            self.arrivals.append(time.monotonic())
            self.trigger.accepted()


class KillSwitch:
    """Kills the bot process when the n-th reminder of the current run is accepted."""

    def __init__(self) -> None:
        self.bot: BotProcess | None = None
        self.remaining = 0
        self.fired = asyncio.Event()

    def arm(self, bot: BotProcess, after: int) -> None:
        self.bot, self.remaining = bot, after
        self.fired.clear()

    def accepted(self) -> None:
        if self.bot is None:
            return
        self.remaining -= 1
        if self.remaining == 0:
            self.bot.kill()
            self.bot = None
            self.fired.set()


async def seed(database_url: str, now: datetime) -> None:
    """One advisor; each person has a consultation in two hours and its 2-hour reminder is due."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    async with session_scope(create_session_factory(engine)) as session:
        advisor = Person(
            telegram_id=FIRST_ID - 1, role="advisor", staff_name="Anna Berger", first_seen=now, last_seen=now
        )
        session.add(advisor)
        await session.flush()
        for number in range(PEOPLE):
            person = Person(
                telegram_id=FIRST_ID + number, role="refugee", language="de", first_seen=now, last_seen=now
            )
            session.add(person)
            await session.flush()
            case = Case(
                number=f"W-K{number:05d}",
                person_id=person.id,
                first_name="Amira",
                status="active",
                opened_at=now,
            )
            session.add(case)
            await session.flush()
            starts = now + timedelta(hours=2)
            appointment = Appointment(
                case_id=case.id,
                person_id=person.id,
                advisor_id=advisor.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                kind="follow_up",
                topic="housing",
                language="de",
                status="booked",
                booked_at=now - timedelta(days=3),
            )
            session.add(appointment)
            await session.flush()
            session.add(
                Reminder(
                    appointment_id=appointment.id,
                    kind="before_2h",
                    due_at=now - timedelta(seconds=5),
                    status="pending",
                    attempts=0,
                )
            )
    await engine.dispose()


async def in_flight(database_url: str) -> set[int]:
    """The people whose reminder the dead process had sent out without storing the outcome."""
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        rows = await connection.scalars(
            select(Person.telegram_id)
            .join(Appointment, Appointment.person_id == Person.id)
            .join(Reminder, Reminder.appointment_id == Appointment.id)
            .where(Reminder.status == "sending", Reminder.attempted_at.is_not(None))
        )
        people = set(rows.all())
    await engine.dispose()
    return people


async def outage_passes(database_url: str) -> None:
    """The bot stays down longer than a claim may take: move the claims of the dead process back."""
    engine = create_engine(database_url)
    async with session_scope(create_session_factory(engine)) as session:
        for reminder in await session.scalars(select(Reminder).where(Reminder.status == "sending")):
            assert reminder.claimed_at is not None
            reminder.claimed_at -= STUCK_AFTER + timedelta(seconds=1)
    await engine.dispose()


async def statuses(database_url: str) -> Counter[str]:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
        ).all()
    await engine.dispose()
    return Counter({status: count for status, count in rows})


async def wait_for_exit(bot: BotProcess) -> None:
    await asyncio.get_running_loop().run_in_executor(None, bot.wait)


async def test_killed_again_and_again_while_sending_no_reminder_arrives_three_times(tmp_path: Path) -> None:
    world = new_world()
    switch = KillSwitch()
    chats: dict[int, Chat] = {}
    for number in range(PEOPLE):
        world.add_person(FIRST_ID + number, "Amira", "de").started = True
        chats[FIRST_ID + number] = world.chats[FIRST_ID + number] = Chat(switch)
    running = await serve(Sandbox({world.token: world}))
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await seed(database_url, datetime.now(UTC))
    bot = BotProcess(database_url, running.api_url, world.token, tmp_path, reminder_interval_seconds="1")
    in_doubt: list[set[int]] = []
    try:
        for after in KILL_AFTER:
            switch.arm(bot, after)
            bot.start()
            await asyncio.wait_for(switch.fired.wait(), 60)
            await wait_for_exit(bot)
            in_doubt.append(await in_flight(database_url))
            await outage_passes(database_url)
        bot.start()
        deadline = time.monotonic() + 60
        while (open_rows := await statuses(database_url))["pending"] + open_rows["sending"]:
            assert time.monotonic() < deadline, f"reminders still open: {open_rows}"
            await asyncio.sleep(0.5)
    finally:
        bot.stop()
        await running.stop()

    received = {person_id: len(chat.arrivals) for person_id, chat in chats.items()}
    assert max(received.values()) <= 2, "nobody gets the same reminder three times"
    repeated = {person_id for person_id, count in received.items() if count == 2}
    assert repeated <= set().union(*in_doubt), "only a reminder in flight at a kill is sent again"
    assert all(doubted for doubted in in_doubt), "the reminder accepted at each kill is in doubt"
    final = await statuses(database_url)
    assert final["sent"] + final["dropped"] == PEOPLE
    assert all(count >= 1 for count in received.values()), f"no reminder is lost: {final}"
