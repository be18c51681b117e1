"""What operators ask of a running database: is the schema current, does the configured case key
fit the stored texts, how are the reminders doing, and which staff cannot be reached in Telegram."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.crypto import CaseCipher, UnreadableText
from storage.key_rotation import ENCRYPTED_COLUMNS
from storage.migrate import head_revisions
from storage.models import CaseKeyCanary, Person, Reminder, ReminderStatus, Role

CANARY_TEXT = "wegweiser case key canary"


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.head)


async def schema_state(connection: AsyncConnection) -> SchemaState:
    """The revisions the database is at, and the newest ones this version of Wegweiser knows (read
    from the revision files, so asking does not load Alembic)."""
    exists = await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
    current: set[str] = set()
    if exists:
        rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
        current = {row[0] for row in rows}
    return SchemaState(tuple(sorted(current)), tuple(sorted(head_revisions())))


async def case_key_fits(session: AsyncSession, cipher: CaseCipher, now: datetime) -> bool:
    """Whether the configured keys decrypt the stored canary. Without a canary yet, one stored case
    text (if any) is tried instead and, when it decrypts, the canary is written with the newest key.

    Asked before the bot polls, in plain SQL on the tables: an ORM query would first configure every
    mapper (20–30 ms), which the bot's first ORM query does anyway once it runs."""
    canaries = CaseKeyCanary.__table__
    token = await session.scalar(select(canaries.c.token).order_by(canaries.c.id).limit(1))
    try:
        if token is not None:
            return cipher.decrypt(token) == CANARY_TEXT
        for attribute in ENCRYPTED_COLUMNS:
            column = attribute.class_.__table__.c[attribute.key]
            sample = await session.scalar(select(column).where(column.is_not(None)).limit(1))
            if sample is not None:
                cipher.decrypt(sample)
                break
    except UnreadableText:
        return False
    await session.execute(insert(canaries).values(token=cipher.encrypt(CANARY_TEXT), created_at=now))
    return True


@dataclass(frozen=True)
class ReminderFigures:
    """Reminders by status (``due`` = pending and already due) and how late the oldest due one is."""

    by_status: dict[str, int]
    due: int
    lag_seconds: float


async def reminder_figures(session: AsyncSession, now: datetime) -> ReminderFigures:
    """Counts for the metrics endpoint; the lag is zero when nothing due waits."""
    counts = dict(
        (await session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))).all()
    )
    waiting = Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now
    due = await session.scalar(select(func.count()).select_from(Reminder).where(*waiting)) or 0
    oldest = await session.scalar(select(func.min(Reminder.due_at)).where(*waiting))
    lag = (now - oldest).total_seconds() if oldest is not None else 0.0
    return ReminderFigures({str(status): int(count) for status, count in counts.items()}, int(due), lag)


async def staff(session: AsyncSession) -> Sequence[Person]:
    """All advisors and admins."""
    result = await session.scalars(select(Person).where(Person.role.in_((Role.ADVISOR, Role.ADMIN))))
    return result.all()


async def unreachable_staff(session: AsyncSession) -> Sequence[Person]:
    """Advisors and admins the bot cannot write to: not started yet, or blocked."""
    result = await session.scalars(
        select(Person)
        .where(
            Person.role.in_((Role.ADVISOR, Role.ADMIN)),
            (Person.not_started_at.is_not(None)) | (Person.blocked_at.is_not(None)),
        )
        .order_by(Person.staff_name, Person.telegram_id)
    )
    return result.all()


def reachability(person: Person) -> str:
    """How a staff member can be reached, in the operator's words."""
    if person.blocked_at is not None:
        return "has blocked the bot"
    if person.not_started_at is not None:
        return "has not started the bot yet"
    return "reachable"
