"""The dispatcher's promises about a backlog, on SQLite and PostgreSQL, with the rate limiter lifted
(stamps in groups by the stamper) and with a limiter that announces (a stamp per request when it is
let through): every message leaves only after its reminder's stamp is committed, at most
``WINDOW`` messages are in flight, and at most ``STAMPED_WINDOWS`` windows of reminders (with the
limiter: one window) are stamped and not yet sent."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers import reminders as dispatcher
from storage import reminders
from storage.db import SessionFactory, session_scope
from storage.models import Reminder
from storage.reminders import Outcome
from tests.support.case_data import add_booked_appointments, local

STARTS = local(2026, 3, 4, 10)  # Wednesday 10:00 in Hemmingen
NOW = STARTS - timedelta(hours=24)
COUNT = 40
WINDOW = 4
FIRST_CHAT = 500


async def due_reminders(sessions: SessionFactory) -> dict[int, int]:
    """``COUNT`` booked appointments, each with its 24-hour reminder due now; reminder id by chat."""
    async with session_scope(sessions) as session:
        appointments = await add_booked_appointments(session, COUNT, FIRST_CHAT, STARTS, timedelta(minutes=1))
        by_chat = {}
        for index, appointment in enumerate(appointments):
            reminder = Reminder(
                appointment_id=appointment.id, kind="before_24h", due_at=NOW, status="pending", attempts=0
            )
            session.add(reminder)
            await session.flush()
            by_chat[FIRST_CHAT + index] = reminder.id
        return by_chat


class Watch:
    """Sees the stamps as they are committed and the messages as they go out."""

    def __init__(self, by_chat: Mapping[int, int]) -> None:
        self.by_chat = by_chat
        self.stamped: set[int] = set()
        self.sent: set[int] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.most_stamped_unsent = 0

    def committed(self, stamped: Sequence[int]) -> None:
        self.stamped.update(stamped)
        self.most_stamped_unsent = max(self.most_stamped_unsent, len(self.stamped - self.sent))

    async def send_message(
        self, chat: int, text: str, reply_markup: object = None, rate_limit_args: Any = None
    ) -> None:
        if callable(rate_limit_args):  # the limiter lets the request through
            await rate_limit_args()
        reminder_id = self.by_chat[chat]
        assert reminder_id in self.stamped, "a message leaves only after its stamp is committed"
        self.sent.add(reminder_id)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(random.uniform(0, 0.01))  # Telegram's answer
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("announces", [False, True], ids=["limiter-lifted", "limiter-announces"])
async def test_a_backlog_goes_out_stamped_first_and_a_window_at_a_time(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch, announces: bool
) -> None:
    by_chat = await due_reminders(sessions)
    watch = Watch(by_chat)
    record_progress = reminders.record_progress

    async def watched(
        target: Any, attempted: Sequence[int], outcomes: Mapping[int, Outcome], now: datetime
    ) -> None:
        await record_progress(target, attempted, outcomes, now)
        watch.committed(attempted)  # straight through the driver: committed once it returns

    monkeypatch.setattr(reminders, "record_progress", watched)
    monkeypatch.setattr(dispatcher, "WINDOW", WINDOW)
    send: Callable[..., Awaitable[None]] = watch.send_message
    runtime = SimpleNamespace(
        sessions=sessions,
        zone=ZoneInfo("Europe/Berlin"),
        default_language="de",
        municipality="Hemmingen",
        clock=lambda: NOW,
    )
    context: Any = SimpleNamespace(
        runtime=runtime,
        now=lambda: NOW,
        bot=SimpleNamespace(send_message=send, rate_limiter=SimpleNamespace(announces=announces)),
    )

    assert await dispatcher.dispatch_reminders(context) == COUNT

    assert watch.sent == set(by_chat.values())
    assert 1 < watch.most_in_flight <= WINDOW
    if announces:
        assert watch.most_stamped_unsent <= WINDOW
    else:  # stamped ahead while the senders are busy, within the bound
        assert WINDOW < watch.most_stamped_unsent <= dispatcher.STAMPED_WINDOWS * WINDOW
    async with sessions() as session:
        statuses = (await session.scalars(select(Reminder.status))).all()
    assert statuses == ["sent"] * COUNT
