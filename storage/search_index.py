"""Each process's search index, kept in step with the database without holding up the bot.

Every change to the directory writes an :class:`OfferChange` row naming the offer. Before each search
the process asks for change rows newer than the last one it applied (a primary-key range, cheap) and
re-reads only the offers they name, so an admin's edit, made in this process or in another one sharing
the database, is searchable on the next search. On PostgreSQL a transaction may commit a lower change
id after a higher one has been seen: ids skipped over are asked for again for a while.

Building the whole index (the first search, or after an import that changed many offers) reads the
directory in chunks, each in its own short session, and indexes them in a worker thread: no
transaction or connection is held while it runs, so other people's messages are answered meanwhile.
While a rebuild runs, searches use the previous index.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Offer, OfferChange, OfferStatus, OfferText
from storage.search import OfferDocument, SearchIndex, document_fields

# More changed offers than this are not re-read in place; the index is rebuilt in the background.
INCREMENTAL_LIMIT = 200
# Offers read per short session while building the whole index.
BUILD_CHUNK = 1000
# How long a change id skipped over is asked for again (a transaction still open on PostgreSQL).
GAP_SECONDS = 300.0
MAX_GAPS = 1000


@dataclass
class _Kept:
    """One database's index in this process and how far it has followed the change log."""

    index: SearchIndex | None = None
    newest: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    # Counts what was applied; a catch-up read while something else was applied is dropped.
    version: int = 0
    rebuilding: asyncio.Task[None] | None = None
    last_update_seconds: float = 0.0


_kept: WeakKeyDictionary[Any, _Kept] = WeakKeyDictionary()


def _kept_for(session: AsyncSession) -> _Kept:
    engine = session.bind.sync_engine  # type: ignore[union-attr]
    # A reading connection's engine is the same engine with options: one index for both.
    engine = getattr(engine, "_proxied", engine)
    kept = _kept.get(engine)
    if kept is None:
        kept = _kept[engine] = _Kept()
    return kept


@asynccontextmanager
async def _reading(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A short session of its own, so that index work never holds the caller's transaction; the
    caller's session itself if it is already in a transaction (a second connection could wait for it)."""
    if session.in_transaction():
        yield session
        return
    async with AsyncSession(session.bind) as own:
        yield own


async def _documents(session: AsyncSession, which: ColumnElement[bool]) -> list[OfferDocument]:
    offers = (
        await session.execute(
            select(Offer.id, Offer.slug, Offer.category, Offer.status, Offer.ends_on)
            .where(which)
            .order_by(Offer.id)
        )
    ).all()
    if not offers:
        return []
    texts: dict[int, list[tuple[str, str, str | None, list[str] | None]]] = {}
    rows = await session.execute(
        select(OfferText.offer_id, OfferText.name, OfferText.summary, OfferText.audience, OfferText.tags)
        .where(OfferText.offer_id.in_([offer_id for offer_id, *_ in offers]))
        .order_by(OfferText.offer_id, OfferText.language)
    )
    for offer_id, name, summary, audience, tags in rows.all():
        texts.setdefault(offer_id, []).append((name, summary, audience, tags))
    return [
        OfferDocument(
            offer_id=offer_id,
            category=category,
            active=status == OfferStatus.ACTIVE,
            ends_on=ends_on,
            fields=document_fields(slug, texts.get(offer_id, ())),
        )
        for offer_id, slug, category, status, ends_on in offers
    ]


def _put_all(index: SearchIndex, documents: Sequence[OfferDocument]) -> None:
    for document in documents:
        index.put(document)


def _follow(kept: _Kept, seen: Sequence[int], newest: int) -> None:
    """Move the watermark past ``seen`` change ids; remember ids skipped over for a while."""
    now = time.monotonic()
    seen_set = set(seen)
    for change_id in range(max(kept.newest + 1, newest - MAX_GAPS + 1), newest + 1):
        if change_id not in seen_set:
            kept.gaps.setdefault(change_id, now)
    for change_id in seen_set:
        kept.gaps.pop(change_id, None)
    kept.gaps = {change_id: since for change_id, since in kept.gaps.items() if now - since < GAP_SECONDS}
    kept.newest = max(kept.newest, newest)


async def _build(session: AsyncSession) -> _Kept:
    """The whole index built from the database, chunk by chunk, with how far it followed the log."""
    fresh = _Kept()
    async with _reading(session) as reader:
        newest = await reader.scalar(select(func.max(OfferChange.id))) or 0
        recent = (
            await reader.scalars(select(OfferChange.id).where(OfferChange.id > newest - MAX_GAPS))
        ).all()
        offer_ids = (await reader.scalars(select(Offer.id).order_by(Offer.id))).all()
    _follow(fresh, recent, newest)
    index = SearchIndex()
    for start in range(0, len(offer_ids), BUILD_CHUNK):
        chunk = offer_ids[start : start + BUILD_CHUNK]
        async with _reading(session) as reader:
            documents = await _documents(reader, Offer.id.between(chunk[0], chunk[-1]))
        await asyncio.to_thread(_put_all, index, documents)
    fresh.index = index
    return fresh


def _put_in_place(kept: _Kept, built: _Kept) -> None:
    """Swap in a newly built index (synchronously: no other search runs in between)."""
    kept.index, kept.newest, kept.gaps = built.index, built.newest, built.gaps
    kept.version += 1


def _start_rebuild(kept: _Kept, session: AsyncSession) -> asyncio.Task[None]:
    if kept.rebuilding is None or kept.rebuilding.done():
        # A session of its own for the task: the caller's session ends with its unit of work.
        own = AsyncSession(session.bind)

        async def rebuild() -> None:
            try:
                _put_in_place(kept, await _build(own))
            finally:
                await own.close()

        kept.rebuilding = asyncio.get_running_loop().create_task(rebuild())
    return kept.rebuilding


async def _catch_up(kept: _Kept, session: AsyncSession) -> None:
    """Apply the changes made since the index last looked, by re-reading the offers they name. This
    runs in the caller's own unit of work: one indexed query when nothing changed, a few rows when
    an admin edited an offer. No lock is held while reading (a search that already holds SQLite's
    connection could otherwise wait for one that waits for the connection); what was read is
    applied all at once, and dropped if another search applied something meanwhile (the next
    search reads it again)."""
    started = time.perf_counter()
    version = kept.version
    newer = OfferChange.id > kept.newest
    which = or_(newer, OfferChange.id.in_(list(kept.gaps))) if kept.gaps else newer
    changes = (await session.execute(select(OfferChange.id, OfferChange.offer_slug).where(which))).all()
    if not changes:
        return
    slugs = {slug for _, slug in changes}
    if len(slugs) > INCREMENTAL_LIMIT:
        _start_rebuild(kept, session)
        return
    documents = await _documents(session, Offer.slug.in_(slugs))
    if kept.version != version or kept.index is None:
        return
    for document in documents:
        kept.index.put(document)
    _follow(kept, [change_id for change_id, _ in changes], max(change_id for change_id, _ in changes))
    kept.version += 1
    kept.last_update_seconds = time.perf_counter() - started


async def current_index(session: AsyncSession) -> SearchIndex:
    """This database's search index, brought up to date with the change log."""
    kept = _kept_for(session)
    if kept.index is None:
        if session.in_transaction():
            built = await _build(session)
            if kept.index is None:
                _put_in_place(kept, built)
        else:
            await asyncio.shield(_start_rebuild(kept, session))
    await _catch_up(kept, session)
    assert kept.index is not None
    return kept.index


async def matching_offer_ids(session: AsyncSession, query: str, today: date, limit: int) -> list[int]:
    """Up to ``limit`` ids of offers people may see today that match the query, best first."""
    index = await current_index(session)
    return index.ranked(query, today, limit)


async def settled(session: AsyncSession) -> None:
    """Wait until a background rebuild of this database's index, if one runs, has finished."""
    rebuilding = _kept_for(session).rebuilding
    if rebuilding is not None:
        await asyncio.shield(rebuilding)


def last_update_seconds(session: AsyncSession) -> float:
    """How long the latest incremental update of this database's index took (for the benchmark)."""
    return _kept_for(session).last_update_seconds


def index_size(session: AsyncSession) -> tuple[int, int]:
    """(distinct words, postings) of this database's index in this process (0, 0 before the first search)."""
    index = _kept_for(session).index
    return index.size if index is not None else (0, 0)
