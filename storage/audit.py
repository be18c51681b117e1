"""The append-only, hash-chained audit log of every staff read and write of case data.

Each entry's hash covers its content and the previous entry's hash, so changing or removing a row
breaks the chain where it happened; :func:`verify_chain` finds that place. Database triggers
refuse UPDATE and DELETE on the table, and the unique previous hash refuses a fork.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Person

GENESIS = "0" * 64
_CHAIN_LOCK = 7_212_001  # a PostgreSQL advisory lock id: appends take turns


def entry_hash(
    previous_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_role: str,
    action: str,
    case_number: str | None,
    detail: str | None,
) -> str:
    """The hash that chains an entry to the one before it."""
    content = json.dumps(
        [
            previous_hash,
            at.isoformat(timespec="microseconds"),
            actor_id,
            actor_role,
            action,
            case_number,
            detail,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


async def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    actor_role: str,
    action: str,
    case_number: str | None,
    now: datetime,
    detail: str | None = None,
) -> AuditEntry:
    """Append an entry; call it in the same unit of work as the read or write it records."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _CHAIN_LOCK})
    last = await session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    previous = last or GENESIS
    at = now.astimezone(UTC)  # hashed exactly as it reads back from the database
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        case_number=case_number,
        detail=detail,
        previous_hash=previous,
        hash=entry_hash(previous, at, actor_id, actor_role, action, case_number, detail),
    )
    session.add(entry)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise RuntimeError("the audit chain moved on while appending; retry the operation") from None
    return entry


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    intact: bool
    broken_at: int | None = None  # the id of the first entry that does not fit

    def __str__(self) -> str:
        if self.intact:
            return f"audit log intact: {self.entries} entries"
        return f"audit log BROKEN at entry {self.broken_at} (of {self.entries})"


async def verify_chain(session: AsyncSession) -> ChainCheck:
    """Walk the whole log in order and recompute every hash."""
    previous = GENESIS
    count = 0
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.id))
    async for entry in result:
        count += 1
        expected = entry_hash(
            previous,
            entry.at,
            entry.actor_id,
            entry.actor_role,
            entry.action,
            entry.case_number,
            entry.detail,
        )
        if entry.previous_hash != previous or entry.hash != expected:
            return ChainCheck(count, False, entry.id)
        previous = entry.hash
    return ChainCheck(count, True)


@dataclass(frozen=True)
class LogPage:
    entries: list[tuple[AuditEntry, str | None]]  # each entry with its actor's staff name
    total: int
    actions: list[str]  # every action in the log, for filtering


async def log_page(
    session: AsyncSession,
    *,
    case_number: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    page_size: int,
) -> LogPage:
    """One page of the log, newest first, filtered by case, action and time (``until`` exclusive)."""
    conditions = []
    if case_number:
        conditions.append(AuditEntry.case_number == case_number)
    if action:
        conditions.append(AuditEntry.action == action)
    if since:
        conditions.append(AuditEntry.at >= since)
    if until:
        conditions.append(AuditEntry.at < until)
    total = await session.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0
    rows = await session.execute(
        select(AuditEntry, Person.staff_name)
        .outerjoin(Person, Person.id == AuditEntry.actor_id)
        .where(*conditions)
        .order_by(AuditEntry.id.desc())
        .offset(page * page_size)
        .limit(page_size)
    )
    actions = (await session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))).all()
    return LogPage([(entry, name) for entry, name in rows.all()], int(total), list(actions))
