"""One process claiming due reminders until none are left, for the test that several processes
never claim the same reminder: ``python -m tests.multi.claim_worker DATABASE_URL NOW START_AT``
(``NOW`` as ISO time, ``START_AT`` as epoch seconds, so that all workers begin together). Prints
the claimed ids as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime

from sqlalchemy import func, select

from storage import reminders
from storage.db import create_engine, create_session_factory, session_scope
from storage.models import Reminder, ReminderStatus


async def claim_all(database_url: str, now: datetime, start_at: float) -> list[int]:
    engine = create_engine(database_url)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    claimed: list[int] = []
    try:
        sessions = create_session_factory(engine)
        while True:
            async with session_scope(sessions) as session:
                batch = await reminders.claim_due(session, now, limit=3)
            if not batch:
                # A claim may come back empty while another process commits; stop only when
                # nothing due is left.
                async with sessions() as session:
                    left = await session.scalar(
                        select(func.count())
                        .select_from(Reminder)
                        .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
                    )
                if not left:
                    return claimed
            claimed.extend(batch)
            await asyncio.sleep(0.01)  # as sending would, so that the others get their turn
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(
        json.dumps(
            asyncio.run(claim_all(sys.argv[1], datetime.fromisoformat(sys.argv[2]), float(sys.argv[3])))
        )
    )
