"""The waiting list: people who found no free time are offered the next one, first come first served."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.booking import BookingPolicy
from storage.models import WaitingListEntry
from storage.slots import Slot, free_slots


async def join_waiting_list(
    session: AsyncSession, person_id: int, topic: str, language: str | None, interpreter: bool, now: datetime
) -> WaitingListEntry:
    """Put the person on the waiting list (once; joining again keeps their place)."""
    entry = await session.scalar(
        select(WaitingListEntry).where(
            WaitingListEntry.person_id == person_id, WaitingListEntry.status.in_(("waiting", "offered"))
        )
    )
    if entry is None:
        entry = WaitingListEntry(
            person_id=person_id,
            topic=topic,
            language=language,
            interpreter=interpreter,
            joined_at=now,
            status="waiting",
        )
        session.add(entry)
        await session.flush()
    return entry


async def offer_freed_time(
    session: AsyncSession, policy: BookingPolicy, now: datetime
) -> list[tuple[WaitingListEntry, Slot]]:
    """First come, first served: expired offers lapse, and the longest-waiting people who can now
    book a free time are offered it (one offer each, valid for ``policy.waiting_offer_valid``)."""
    expired = await session.scalars(
        select(WaitingListEntry).where(
            WaitingListEntry.status == "offered", WaitingListEntry.offer_expires_at <= now
        )
    )
    for entry in expired:
        entry.status = "expired"
    waiting = (
        await session.scalars(
            select(WaitingListEntry)
            .where(WaitingListEntry.status == "waiting")
            .order_by(WaitingListEntry.joined_at)
        )
    ).all()
    promised = set(
        (
            await session.scalars(
                select(WaitingListEntry.offered_starts_at).where(WaitingListEntry.status == "offered")
            )
        ).all()
    )
    offered: list[tuple[WaitingListEntry, Slot]] = []
    for entry in waiting:
        slots = [
            slot
            for slot in await free_slots(
                session, policy, now, entry.person_id, entry.language, entry.interpreter
            )
            if slot.starts_at not in promised
        ]
        if not slots:
            continue
        entry.status, entry.offered_at = "offered", now
        entry.offered_starts_at, entry.offer_expires_at = slots[0].starts_at, now + policy.waiting_offer_valid
        promised.add(slots[0].starts_at)
        offered.append((entry, slots[0]))
    return offered
