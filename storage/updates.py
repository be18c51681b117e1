"""Idempotent update handling: each Telegram update id is processed once, even if delivered twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignoring_conflicts
from storage.models import ProcessedUpdate

KEEP_PROCESSED_FOR = timedelta(days=2)


async def claim_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record the update as processed; ``False`` when it was already claimed before."""
    result = await session.execute(
        insert_ignoring_conflicts(session, ProcessedUpdate, ["update_id"]).values(
            update_id=update_id, processed_at=now
        )
    )
    return bool(result.rowcount)


async def forget_old_updates(session: AsyncSession, now: datetime) -> int:
    """Drop update ids older than Telegram would ever redeliver; returns how many went."""
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_PROCESSED_FOR)
    )
    return int(result.rowcount or 0)
