"""What the bot waits for a person to type (a new value for a field, …), stored so a restart keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PendingInput

EXPIRES_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Waiting:
    kind: str
    payload: dict[str, Any]


async def wait_for_text(
    session: AsyncSession, person_id: int, kind: str, payload: dict[str, Any], now: datetime
) -> None:
    """Remember that the next text from the person answers a question (replacing an older one)."""
    await session.execute(delete(PendingInput).where(PendingInput.person_id == person_id))
    session.add(PendingInput(person_id=person_id, kind=kind, payload=payload, asked_at=now))


async def waiting_for(session: AsyncSession, person_id: int, now: datetime) -> Waiting | None:
    """What the bot waits for from the person, unless it was asked too long ago."""
    pending = await session.scalar(select(PendingInput).where(PendingInput.person_id == person_id))
    if pending is None:
        return None
    if pending.asked_at < now - EXPIRES_AFTER:
        await session.delete(pending)
        return None
    return Waiting(pending.kind, dict(pending.payload))


async def stop_waiting(session: AsyncSession, person_id: int) -> bool:
    """Forget the question; returns whether there was one."""
    result = await session.execute(delete(PendingInput).where(PendingInput.person_id == person_id))
    return bool(result.rowcount)
