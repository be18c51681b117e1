"""Each process's search index, kept in step with the database without holding up the bot.

Every change to the directory writes an :class:`OfferChange` row naming the offer. Before each search
the process asks for change rows newer than the last one it applied (a primary-key range, cheap) and
re-reads only the offers they name, so an admin's edit, made in this process or in another one sharing
the database, is searchable on the next search. On PostgreSQL a transaction may commit a lower change
id after a higher one has been seen: ids skipped over are asked for again for a while.

A search costs one database statement when nothing changed: that question is asked outside any
transaction, straight through the pooled connection's driver (one round trip; through the ORM session
it took a ``BEGIN``, the query and a ``ROLLBACK``, on SQLite each of them several trips to aiosqlite's
thread). The index also keeps what a result list shows of each offer (its slug and its name in each
language), so the offers found need not be loaded.

Building the whole index (when the bot starts, at the first search if nothing started it, or after an
import that changed many offers) reads the directory in chunks, each in its own short session, and
indexes them in a worker thread: no transaction or connection is held while it runs, so other
people's messages are answered meanwhile. While a rebuild runs, searches use the previous index.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import reading_engine
from storage.models import Offer, OfferChange, OfferStatus, OfferText
from storage.search import OfferDocument, SearchIndex, document_fields

# More changed offers than this are not re-read in place; the index is rebuilt in the background.
INCREMENTAL_LIMIT = 200
# At most this many change rows are read per search (more mean a rebuild). The limit, with the order
# by id, also keeps PostgreSQL on the primary key: a generic plan for a bare ``id > $1`` may scan the
# whole ever-growing change log.
CHANGES_PER_LOOK = 1000
# Offers read per short session while building the whole index. The rows, texts and words of one
# chunk are freed once it is indexed, but the memory they took stays with the process (Python keeps
# its small-object arenas while any object in them lives, and the index's objects are spread among
# them): at 5,000 offers chunks of 250 left about 5 MB more than chunks of 100 (50: 1.3 MB less than
# 100). Each chunk's postings are merged into the index's, so smaller chunks take longer to build (in
# the background): at 50,000 offers 100 took 15 % more time than 250, 50 took 27 % more.
BUILD_CHUNK = 100
# How long a change id skipped over is asked for again (a transaction still open on PostgreSQL).
GAP_SECONDS = 300.0
MAX_GAPS = 1000
# Separates the slug, languages and names in what the index keeps to show an offer.
_SHOWN_SEPARATOR = "\x1f"
# The change-log question of every search, asked through these drivers' own connections.
_NEWER_CHANGES = "SELECT id, offer_slug FROM {table} WHERE id > {newest}{gaps} ORDER BY id LIMIT {limit}"
_FAST_DRIVERS = {("sqlite", "aiosqlite"), ("postgresql", "asyncpg")}


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


def _kept_for(bind: AsyncSession | AsyncEngine) -> _Kept:
    engine = (bind.bind if isinstance(bind, AsyncSession) else bind).sync_engine  # type: ignore[union-attr]
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
    async with AsyncSession(reading_engine(session.bind)) as own:  # type: ignore[arg-type]
        yield own


async def _documents(session: AsyncSession, which: ColumnElement[bool]) -> list[OfferDocument]:
    """The index's view of the offers ``which`` selects, read in one statement (offers and texts
    joined: one round trip, which counts most for an admin's edit on a busy machine)."""
    rows = await session.execute(
        select(
            Offer.id,
            Offer.slug,
            Offer.category,
            Offer.status,
            Offer.ends_on,
            OfferText.language,
            OfferText.name,
            OfferText.summary,
            OfferText.audience,
            OfferText.tags,
        )
        .outerjoin(OfferText, OfferText.offer_id == Offer.id)
        .where(which)
        .order_by(Offer.id, OfferText.language)
    )
    offers: dict[int, tuple[str, str, OfferStatus, date | None]] = {}
    texts: dict[int, list[tuple[str, str, str | None, list[str] | None]]] = {}
    names: dict[int, list[str]] = {}
    for offer_id, slug, category, status, ends_on, language, name, summary, audience, tags in rows.all():
        offers.setdefault(offer_id, (slug, category, status, ends_on))
        if language is not None:
            texts.setdefault(offer_id, []).append((name, summary, audience, tags))
            names.setdefault(offer_id, []).extend((language, name.replace(_SHOWN_SEPARATOR, " ")))
    return [
        OfferDocument(
            offer_id=offer_id,
            category=category,
            active=status == OfferStatus.ACTIVE,
            ends_on=ends_on,
            fields=document_fields(slug, texts.get(offer_id, ())),
            shown=_SHOWN_SEPARATOR.join([slug, *names.get(offer_id, ())]),
        )
        for offer_id, (slug, category, status, ends_on) in offers.items()
    ]


def shown_offer(shown: str) -> tuple[str, dict[str, str]]:
    """The slug and the names by language that the index keeps to show an offer in a result list."""
    slug, *pairs = shown.split(_SHOWN_SEPARATOR)
    return slug, dict(zip(pairs[::2], pairs[1::2], strict=True))


def _put_all(index: SearchIndex, documents: Sequence[OfferDocument]) -> None:
    index.put_many(documents)


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


def _return_freed_memory() -> None:
    """Give what a build read and freed (and a replaced index) back to the system, with glibc's
    ``malloc_trim``; elsewhere nothing. Without it the process keeps the build's high-water mark
    (at 5,000 offers about 10 MB more)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


async def _release_read_pages(engine: AsyncEngine) -> None:
    """On SQLite, empty the page cache of the pooled connection the build read on (up to 2 MB of
    offer texts the bot will not read again soon; the pages it reads next are cached anew)."""
    if (engine.dialect.name, engine.dialect.driver) != ("sqlite", "aiosqlite"):
        return
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        await driver.execute_fetchall("PRAGMA shrink_memory")


def _put_in_place(kept: _Kept, built: _Kept) -> None:
    """Swap in a newly built index (synchronously: no other search runs in between)."""
    kept.index, kept.newest, kept.gaps = built.index, built.newest, built.gaps
    kept.version += 1


def _start_rebuild(kept: _Kept, bind: AsyncEngine) -> asyncio.Task[None]:
    if kept.rebuilding is None or kept.rebuilding.done():
        # A session of its own for the task: the caller's session ends with its unit of work.
        own = AsyncSession(reading_engine(bind))

        async def rebuild() -> None:
            try:
                _put_in_place(kept, await _build(own))
            finally:
                await own.close()
            await _release_read_pages(bind)
            await asyncio.to_thread(_return_freed_memory)

        kept.rebuilding = asyncio.get_running_loop().create_task(rebuild())
    return kept.rebuilding


async def _newer_changes(kept: _Kept, session: AsyncSession) -> list[tuple[int, str]]:
    """The change rows the index has not applied yet (newer ones, and ids skipped over earlier).

    In the caller's transaction if it has one; otherwise as one statement outside any transaction,
    straight through the pooled connection's driver: one round trip instead of the session's
    ``BEGIN``, query and ``ROLLBACK`` (each several trips to aiosqlite's thread on SQLite)."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    dialect = engine.dialect
    if session.in_transaction() or (dialect.name, dialect.driver) not in _FAST_DRIVERS:
        newer = OfferChange.id > kept.newest
        which = or_(newer, OfferChange.id.in_(list(kept.gaps))) if kept.gaps else newer
        rows = await session.execute(
            select(OfferChange.id, OfferChange.offer_slug)
            .where(which)
            .order_by(OfferChange.id)
            .limit(CHANGES_PER_LOOK)
        )
        return [(change_id, slug) for change_id, slug in rows.all()]
    gaps = list(kept.gaps)
    table, limit = OfferChange.__tablename__, CHANGES_PER_LOOK
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if dialect.name == "sqlite":
            asked = f" OR id IN ({', '.join('?' * len(gaps))})" if gaps else ""
            sql = _NEWER_CHANGES.format(table=table, newest="?", gaps=asked, limit=limit)
            found = await driver.execute_fetchall(sql, (kept.newest, *gaps))
        else:
            asked = " OR id = ANY($2::integer[])" if gaps else ""
            sql = _NEWER_CHANGES.format(table=table, newest="$1", gaps=asked, limit=limit)
            found = await driver.fetch(sql, kept.newest, *([gaps] if gaps else []))
    return [(change_id, slug) for change_id, slug in found]


async def _catch_up(kept: _Kept, session: AsyncSession) -> None:
    """Apply the changes made since the index last looked, by re-reading the offers they name: one
    indexed query when nothing changed, a few rows when an admin edited an offer (in the caller's
    transaction if it has one, else in a short one of its own). No lock is held while reading (a
    search that already holds SQLite's connection could otherwise wait for one that waits for the
    connection); what was read is applied all at once, and dropped if another search applied
    something meanwhile (the next search reads it again)."""
    started = time.perf_counter()
    version = kept.version
    changes = await _newer_changes(kept, session)
    if not changes:
        return
    slugs = {slug for _, slug in changes}
    if len(slugs) > INCREMENTAL_LIMIT or len(changes) >= CHANGES_PER_LOOK:
        _start_rebuild(kept, session.bind)  # type: ignore[arg-type]
        return
    async with _reading(session) as reader:
        documents = await _documents(reader, Offer.slug.in_(slugs))
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
            await asyncio.shield(_start_rebuild(kept, session.bind))  # type: ignore[arg-type]
    await _catch_up(kept, session)
    assert kept.index is not None
    return kept.index


async def matching_offers(
    session: AsyncSession, query: str, today: date, limit: int
) -> list[tuple[int, str, dict[str, str]]]:
    """Up to ``limit`` offers people may see today that match the query, best first: each one's id,
    slug and name by language, from the index (which has just caught up with the change log)."""
    index = await current_index(session)
    return [(offer_id, *shown_offer(index.shown(offer_id))) for offer_id in index.ranked(query, today, limit)]


async def build(engine: AsyncEngine) -> None:
    """Build this database's index now unless it is built or being built (the bot starts this in the
    background). Like every build it holds no transaction while it indexes."""
    kept = _kept_for(engine)
    if kept.index is None:
        await _start_rebuild(kept, engine)


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
