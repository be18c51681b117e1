"""Notifications waiting for staff whom Telegram does not let the bot write to yet.

Telegram refuses a bot's first message to someone who never opened it ("bot can't initiate
conversation"). That is not a block: the staff member was added before they started the bot. Their
notifications wait here and are delivered, then deleted, the moment they start it; admins see on the
desk who has notifications waiting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people
from storage.models import Person, WaitingNotification


@dataclass(frozen=True)
class Waiting:
    """Undelivered notifications of one staff member, for the desk and ``wegweiser check``."""

    person_id: int
    staff_name: str | None
    count: int
    oldest: datetime


async def hold(
    session: AsyncSession, person_id: int, text: str, reply_markup: dict[str, Any] | None, now: datetime
) -> WaitingNotification:
    """Keep a notification for a person who has not started the bot yet."""
    waiting = WaitingNotification(person_id=person_id, text=text, reply_markup=reply_markup, created_at=now)
    session.add(waiting)
    await session.flush()
    return waiting


async def not_started(session: AsyncSession, telegram_id: int, now: datetime) -> Person | None:
    """Record that Telegram would not let the bot write first to this person; returns them."""
    person = await people.person_by_telegram_id(session, telegram_id)
    if person is not None and person.not_started_at is None:
        person.not_started_at = now
    return person


async def started(session: AsyncSession, telegram_id: int) -> None:
    """The bot can write to this person after all (Telegram accepted a message): clear the flag."""
    await session.execute(update(Person).where(Person.telegram_id == telegram_id).values(not_started_at=None))


async def waiting_for(session: AsyncSession, telegram_id: int) -> Sequence[WaitingNotification]:
    """The person's waiting notifications, oldest first."""
    result = await session.scalars(
        select(WaitingNotification)
        .join(Person, Person.id == WaitingNotification.person_id)
        .where(Person.telegram_id == telegram_id)
        .order_by(WaitingNotification.created_at, WaitingNotification.id)
    )
    return result.all()


async def delivered(session: AsyncSession, notification_id: int) -> None:
    """Forget a notification once Telegram accepted it."""
    await session.execute(delete(WaitingNotification).where(WaitingNotification.id == notification_id))


async def undelivered(session: AsyncSession) -> Sequence[Waiting]:
    """Everyone with notifications waiting: how many, and since when (oldest first)."""
    rows = await session.execute(
        select(
            Person.id,
            Person.staff_name,
            func.count(WaitingNotification.id),
            func.min(WaitingNotification.created_at),
        )
        .join(WaitingNotification, WaitingNotification.person_id == Person.id)
        .group_by(Person.id, Person.staff_name)
        .order_by(func.min(WaitingNotification.created_at))
    )
    return [Waiting(person_id, name, count, oldest) for person_id, name, count, oldest in rows]
