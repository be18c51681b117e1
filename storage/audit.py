"""The append-only, keyed hash chain of every staff read and write of case data.

Each entry's hash is an HMAC-SHA256, under a key from the configuration (``WEGWEISER_AUDIT_KEY``,
never stored in the database), of its content and the previous entry's hash: changing or removing
a row breaks the chain where it happened, and whoever can write the database but lacks the key
cannot compute a chain that fits again. Removing the newest entries leaves a shorter chain that
still fits, so the head (count and last hash) is also kept outside the database, in the admins'
daily message and an optional anchor file; :func:`verify_chain` with that :class:`Anchor` notices.
Database triggers refuse UPDATE and DELETE on the table, and the unique previous hash refuses a fork.

Keys rotate: the first configured key signs, every configured key verifies (each entry names its
key by ``key_id``, a fingerprint). Entries written before keys existed (``key_id`` NULL) carry the
plain SHA-256 chain; they are accepted only before the first keyed entry, which seals them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SessionFactory
from storage.dialects import POSTGRESQL, dialect_name
from storage.models import AuditEntry, Person

GENESIS = "0" * 64
_CHAIN_LOCK = 7_212_001  # a PostgreSQL advisory lock id: appends take turns
KEYS_INFO = "wegweiser.audit_keys"  # where a session factory's sessions carry the keys
MIN_KEY_LENGTH = 32
ANCHOR = re.compile(r"^(\d{1,12}):([0-9a-f]{64})$")


class AuditKeyMissing(RuntimeError):
    """No audit key is configured (``WEGWEISER_AUDIT_KEY``), so no entry can be written."""


@dataclass(frozen=True)
class AuditKey:
    secret: bytes

    @property
    def key_id(self) -> str:
        """A fingerprint that names the key in each entry (it reveals nothing of the key)."""
        return hashlib.sha256(b"wegweiser audit key id\0" + self.secret).hexdigest()[:16]


def audit_keys(raw: Sequence[str]) -> tuple[AuditKey, ...]:
    """Keys from the configuration, newest first; each at least 32 characters."""
    keys = tuple(AuditKey(key.encode("utf-8")) for key in raw if key)
    if any(len(key.secret) < MIN_KEY_LENGTH for key in keys):
        raise ValueError(f"an audit key needs at least {MIN_KEY_LENGTH} characters")
    return keys


def use_keys(factory: SessionFactory, raw: Sequence[str]) -> SessionFactory:
    """Let the sessions of ``factory`` sign audit entries with the first key and verify with all."""
    factory.configure(info={**factory.kw.get("info", {}), KEYS_INFO: audit_keys(raw)})
    return factory


def _keys(session: AsyncSession) -> tuple[AuditKey, ...]:
    return session.info.get(KEYS_INFO, ())


def _content(
    previous_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_role: str,
    action: str,
    case_number: str | None,
    detail: str | None,
) -> bytes:
    return json.dumps(
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
    ).encode("utf-8")


def entry_hash(key: AuditKey | None, previous_hash: str, entry: AuditEntry) -> str:
    """The entry's hash: HMAC-SHA256 under ``key``, or the plain SHA-256 of a legacy entry."""
    content = _content(
        previous_hash,
        entry.at,
        entry.actor_id,
        entry.actor_role,
        entry.action,
        entry.case_number,
        entry.detail,
    )
    if key is None:
        return hashlib.sha256(content).hexdigest()
    return hmac.new(key.secret, content, hashlib.sha256).hexdigest()


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
    """Append an entry; call it in the same unit of work as the read or write it records.
    :class:`AuditKeyMissing` when the session's factory has no key (see :func:`use_keys`)."""
    keys = _keys(session)
    if not keys:
        raise AuditKeyMissing("WEGWEISER_AUDIT_KEY is not configured")
    if dialect_name(session) == POSTGRESQL:
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
        key_id=keys[0].key_id,
    )
    entry.hash = entry_hash(keys[0], previous, entry)
    session.add(entry)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise RuntimeError("the audit chain moved on while appending; retry the operation") from None
    return entry


@dataclass(frozen=True)
class Anchor:
    """The chain's head as seen at one moment: how many entries, and the hash of the last one."""

    count: int
    head: str

    def __str__(self) -> str:
        return f"{self.count}:{self.head}"


def parse_anchor(value: str) -> Anchor:
    """An anchor written as ``COUNT:HASH``, or the last line of an anchor file that ends so."""
    path = Path(value)
    if path.is_file():
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        value = lines[-1].split()[-1] if lines else ""
    found = ANCHOR.match(value.strip())
    if found is None:
        raise ValueError("an anchor is COUNT:HASH (as in the admins' daily message) or a file of them")
    return Anchor(int(found.group(1)), found.group(2))


async def current_anchor(session: AsyncSession) -> Anchor:
    """The chain's head now (``0:GENESIS`` for an empty log)."""
    count = await session.scalar(select(func.count(AuditEntry.id))) or 0
    last = await session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return Anchor(int(count), last or GENESIS)


def append_anchor(path: Path, anchor: Anchor, at: datetime) -> None:
    """Add a line ``<time> COUNT:HASH`` to an anchor file outside the database."""
    with path.open("a", encoding="utf-8") as sink:
        sink.write(f"{at.astimezone(UTC).isoformat(timespec='seconds')} {anchor}\n")


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    intact: bool
    broken_at: int | None = None  # the id of the first entry that does not fit
    # Why: "changed" (an entry does not fit), "key" (signed with a key that is not configured),
    # "removed" (fewer entries than the anchor counted), "anchor" (the anchored entry differs).
    reason: str | None = None
    head: Anchor | None = None
    legacy: int = 0  # entries from before keys existed

    def __str__(self) -> str:
        if self.intact:
            legacy = f" ({self.legacy} of them from before audit keys)" if self.legacy else ""
            return f"audit log intact: {self.entries} entries{legacy}; anchor {self.head}"
        if self.reason == "removed":
            return f"audit log BROKEN: entries were removed (only {self.entries} left)"
        if self.reason == "key":
            return f"audit log BROKEN at entry {self.broken_at}: signed with a key that is not configured"
        return f"audit log BROKEN at entry {self.broken_at} (of {self.entries})"


async def verify_chain(session: AsyncSession, anchor: Anchor | None = None) -> ChainCheck:
    """Walk the whole log in order and recompute every hash with the configured keys; with an
    ``anchor``, also check that the chain still reaches that far and passes through its head."""
    keys = {key.key_id: key for key in _keys(session)}
    previous = GENESIS
    count = legacy = 0
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.id))
    async for entry in result:
        count += 1
        if entry.key_id is None and legacy == count - 1:
            legacy += 1
            key = None
        elif entry.key_id in keys:
            key = keys[entry.key_id]
        else:
            reason = "changed" if entry.key_id is None else "key"
            return ChainCheck(count, False, entry.id, reason)
        if entry.previous_hash != previous or entry.hash != entry_hash(key, previous, entry):
            return ChainCheck(count, False, entry.id, "changed")
        previous = entry.hash
        if anchor is not None and count == anchor.count and entry.hash != anchor.head:
            return ChainCheck(count, False, entry.id, "anchor")
    if anchor is not None and count < anchor.count:
        return ChainCheck(count, False, None, "removed")
    if anchor is not None and anchor.count == 0 and anchor.head != GENESIS:
        return ChainCheck(count, False, None, "anchor")
    return ChainCheck(count, True, head=Anchor(count, previous), legacy=legacy)


async def newest_entry_key_known(session: AsyncSession) -> bool:
    """Whether the newest entry of the log was signed with a configured key (or there is none yet,
    or it comes from before audit keys existed): when it was not, no further entry can be chained
    to it and the log cannot be verified — the previous key was dropped from the configuration."""
    key_id = await session.scalar(select(AuditEntry.key_id).order_by(AuditEntry.id.desc()).limit(1))
    return key_id is None or key_id in {key.key_id for key in _keys(session)}


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
