"""The keyed audit chain, on SQLite and PostgreSQL: whoever can write the database but lacks the key
cannot make an edited entry fit again, a removed tail is noticed against an anchor kept outside the
database, keys rotate, and entries from before keys existed stay verifiable."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import audit
from storage.db import SessionFactory, create_session_factory, session_scope
from storage.models import AuditEntry

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD_KEY = "old-audit-key-0123456789-0123456789-abc"
NEW_KEY = "new-audit-key-0123456789-0123456789-xyz"


async def add_entries(sessions: SessionFactory, count: int, start: int = 0) -> None:
    async with session_scope(sessions) as session:
        for n in range(start, start + count):
            await audit.record(
                session,
                actor_id=7,
                actor_role="advisor",
                action="case.read",
                case_number=f"W-{n:06d}",
                now=NOW + timedelta(minutes=n),
            )


async def check(sessions: SessionFactory, anchor: audit.Anchor | None = None) -> audit.ChainCheck:
    async with sessions() as session:
        return await audit.verify_chain(session, anchor)


@pytest.fixture
async def tamperable(sessions: SessionFactory) -> AsyncIterator[SessionFactory]:
    """The same database with the append-only triggers off, as someone with write access has it."""
    async with session_scope(sessions) as session:
        dialect = session.bind.dialect.name
    statements = (
        ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"]
        if dialect == "postgresql"
        else ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
    )
    async with session_scope(sessions) as session:
        for statement in statements:
            await session.execute(text(statement))
    yield sessions
    if dialect == "postgresql":
        async with session_scope(sessions) as session:
            await session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


async def test_an_intact_chain_names_its_head(sessions: SessionFactory) -> None:
    await add_entries(sessions, 3)

    result = await check(sessions)

    async with sessions() as session:
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        head = await audit.current_anchor(session)
    assert result.intact and result.entries == 3 and result.legacy == 0
    assert result.head == head == audit.Anchor(3, last.hash)
    assert last.key_id is not None and len(last.key_id) == 16


async def test_an_edited_entry_is_found_even_with_its_plain_hash_recomputed(
    tamperable: SessionFactory,
) -> None:
    await add_entries(tamperable, 4)
    async with session_scope(tamperable) as session:
        entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.id).offset(1).limit(1))
        entry.case_number = "W-FORGED"
        # The forger recomputes the hash the way the unkeyed chain did; without the key it cannot fit.
        entry.hash = audit.entry_hash(None, entry.previous_hash, entry)
        edited_id = entry.id

    result = await check(tamperable)

    assert not result.intact and result.broken_at == edited_id and result.reason == "changed"


async def test_a_removed_tail_is_found_against_the_anchor(tamperable: SessionFactory) -> None:
    await add_entries(tamperable, 5)
    async with tamperable() as session:
        anchor = await audit.current_anchor(session)
    async with session_scope(tamperable) as session:
        await session.execute(text("DELETE FROM audit_log WHERE id > 3"))

    without_anchor = await check(tamperable)
    with_anchor = await check(tamperable, anchor)

    assert without_anchor.intact and without_anchor.entries == 3  # the shorter chain fits...
    assert not with_anchor.intact and with_anchor.reason == "removed"  # ...but not the anchor
    assert "entries were removed" in str(with_anchor)


async def test_an_older_anchor_still_fits_a_chain_that_grew(sessions: SessionFactory) -> None:
    await add_entries(sessions, 2)
    async with sessions() as session:
        anchor = await audit.current_anchor(session)
    await add_entries(sessions, 3, start=2)

    assert (await check(sessions, anchor)).intact
    assert (await check(sessions, audit.Anchor(2, "a" * 64))).reason == "anchor"


async def test_keys_rotate_and_a_missing_key_is_named(engine: AsyncEngine) -> None:
    old = audit.use_keys(create_session_factory(engine), [OLD_KEY])
    await add_entries(old, 2)
    rotated = audit.use_keys(create_session_factory(engine), [NEW_KEY, OLD_KEY])
    await add_entries(rotated, 2, start=2)
    new_only = audit.use_keys(create_session_factory(engine), [NEW_KEY])

    async with rotated() as session:
        key_ids = (await session.scalars(select(AuditEntry.key_id).order_by(AuditEntry.id))).all()
    assert key_ids[0] == key_ids[1] != key_ids[2] == key_ids[3]
    assert (await check(rotated)).intact
    forgotten = await check(new_only)
    assert not forgotten.intact and forgotten.reason == "key" and forgotten.broken_at is not None


async def test_writing_without_a_key_is_refused(engine: AsyncEngine) -> None:
    keyless = create_session_factory(engine)

    with pytest.raises(audit.AuditKeyMissing):
        await add_entries(keyless, 1)


async def test_entries_from_before_keys_verify_only_before_the_first_keyed_one(
    tamperable: SessionFactory,
) -> None:
    previous = audit.GENESIS
    async with session_scope(tamperable) as session:
        for n in range(2):  # as the unkeyed chain wrote them
            entry = AuditEntry(
                at=NOW + timedelta(minutes=n),
                actor_id=None,
                actor_role="system",
                action="case.read",
                case_number=None,
                detail=None,
                previous_hash=previous,
            )
            entry.hash = hashlib.sha256(
                audit._content(previous, entry.at, None, "system", "case.read", None, None)
            ).hexdigest()
            session.add(entry)
            await session.flush()
            previous = entry.hash
    await add_entries(tamperable, 2, start=2)

    sealed = await check(tamperable)
    async with session_scope(tamperable) as session:
        first_keyed = await session.scalar(
            select(AuditEntry).where(AuditEntry.key_id.is_not(None)).order_by(AuditEntry.id).limit(1)
        )
        first_keyed.key_id = None  # posing as legacy after the seal
        first_keyed_id = first_keyed.id
    unsealed = await check(tamperable)

    assert sealed.intact and sealed.legacy == 2 and sealed.entries == 4
    assert not unsealed.intact and unsealed.broken_at == first_keyed_id


def test_anchors_are_read_from_a_value_or_the_last_line_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "audit-anchors.txt"
    audit.append_anchor(path, audit.Anchor(3, "b" * 64), NOW)
    audit.append_anchor(path, audit.Anchor(5, "c" * 64), NOW + timedelta(days=1))

    assert audit.parse_anchor(str(path)) == audit.Anchor(5, "c" * 64)
    assert audit.parse_anchor(f"12:{'d' * 64}") == audit.Anchor(12, "d" * 64)
    assert path.read_text().splitlines()[0] == f"2026-03-02T09:00:00+00:00 3:{'b' * 64}"
    with pytest.raises(ValueError):
        audit.parse_anchor("12:not-a-hash")
