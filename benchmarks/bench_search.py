"""Search benchmark: offer search at growing directory sizes, the index update after an admin edit, the
index's memory, and (with ``--candidates``) the database-side indexes it was chosen over.

Run from the project root::

    .venv/bin/python -m benchmarks.bench_search [--sizes 500 5000 50000] [--queries 300] [--edits 20]
        [--candidates] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

For each size it generates the same synthetic directory as ``bench_offers`` (texts in all ten
languages), writes it straight into a fresh database (bulk inserts, one change-log row per offer as
an import writes), and then times, each call in its own unit of work as the handlers do (a search in
``read_scope``, as the search handler runs it; an edit in ``session_scope``):

- building the in-memory index (``search_index.build``, as the bot does when it starts), and the
  process's resident memory before and after it (what the index adds); also the memory the index's
  allocations take, by ``tracemalloc``, in a second build of the same offers (word cache emptied);
- ``--queries`` searches: exact words, one-typo words, two-word names, real words, misses; wall
  time, this process's CPU time (all threads; less disturbed by other work on the machine), and the
  ranking in memory alone (``SearchIndex.ranked``); alternated query by query with the same-run
  **baseline**, the search as it was before the index kept the names (the change log asked inside
  the session's transaction, then the offers found loaded through the ORM with all their texts);
- ``--edits`` admin edits (``set_offer_text``) each followed by a search for the new word: the
  incremental index update (``search_index.last_update_seconds``) and that search end to end.

``--candidates`` also times, on the same texts and queries, SQLite FTS5 with the trigram tokenizer
(on SQLite) or PostgreSQL ``pg_trgm`` word similarity with a GIN index (on PostgreSQL): build time,
p50/p95, and how many queries of each kind found something.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy
import rapidfuzz
import sqlalchemy
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import joinedload

from benchmarks._common import (
    check_database_url,
    describe_database,
    guard_loopback,
    machine_line,
    ms,
    percentile,
    throwaway_schema,
    use_schema,
)
from benchmarks.bench_offers import QUERY_KINDS, Generated, Query, generate, make_queries
from storage import offers, search, search_index
from storage.db import SessionFactory, create_engine, create_session_factory, read_scope, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Offer, OfferChange, OfferText, Role
from storage.people import add_staff
from storage.search import query_words, words

ZONE = ZoneInfo("Europe/Berlin")
ADMIN_TELEGRAM_ID = 90_000_001
TEXT_KEYS = ("name", "summary", "audience", "cost", "details", "tags")


@dataclass
class Timings:
    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def cells(self) -> str:
        return f"{ms(percentile(self.values, 50)):>8}{ms(percentile(self.values, 95)):>8}"


@dataclass
class SizeResult:
    offers: int
    write_s: float
    build_s: float
    index_mb: float
    traced_mb: float
    rss_after_mb: float
    tokens: int
    postings: int
    search: Timings
    search_cpu: Timings
    baseline: Timings
    baseline_cpu: Timings
    ranking: Timings
    hits: dict[str, int]
    update: Timings
    after_edit: Timings
    candidate: str = ""


def rss_mb() -> float:
    """This process's resident memory (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def timed(factory: SessionFactory, work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    async with session_scope(factory) as session:
        result = await work(session)
    return time.perf_counter() - started, result


async def timed_search(factory: SessionFactory, work: Any, wall: Timings, cpu: Timings) -> Any:
    """One search in its own reading unit of work, as the search handler runs it."""
    started, used = time.perf_counter(), time.process_time()
    async with read_scope(factory) as session:
        result = await work(session)
    wall.add(time.perf_counter() - started)
    cpu.add(time.process_time() - used)
    return result


async def search_as_before(session: AsyncSession, query: str, today: date) -> list[Offer]:
    """The same-run baseline: the search as it was before the index kept what the list shows. The
    change log is asked inside the session's transaction; the offers found are loaded through the
    ORM with all their texts, and their visibility checked again."""
    await session.connection()
    ids = (await search_index.current_index(session)).ranked(query, today, 8)
    if not ids:
        return []
    result = await session.scalars(
        select(Offer).options(joinedload(Offer.texts)).where(Offer.id.in_(ids), offers.is_visible(today))
    )
    by_id = {offer.id: offer for offer in result.unique().all()}
    return [by_id[offer_id] for offer_id in ids if offer_id in by_id]


async def traced_index_mb(engine: AsyncEngine) -> float:
    """The memory a second build of the same offers allocates (tracemalloc), word cache emptied."""
    async with AsyncSession(engine) as session:
        offer_ids = (await session.scalars(select(Offer.id).order_by(Offer.id))).all()
        documents = []
        for start in range(0, len(offer_ids), search_index.BUILD_CHUNK):
            chunk = offer_ids[start : start + search_index.BUILD_CHUNK]
            documents += await search_index._documents(session, Offer.id.between(chunk[0], chunk[-1]))
    search._folded.cache_clear()
    gc.collect()
    tracemalloc.start()
    try:
        index = search.SearchIndex.build(documents)
        traced = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del index
    return traced / 2**20


async def write_directory(factory: SessionFactory, generated: Generated, now: datetime) -> None:
    """The generated directory written with Core bulk inserts, plus one change-log row per offer."""
    async with session_scope(factory) as session:
        connection = await session.connection()
        rows = []
        for record in generated.records:
            ends_on = record.get("ends_on")
            rows.append(
                {
                    "slug": record["slug"],
                    "category": record["category"],
                    "status": record["status"],
                    "example": False,
                    "ends_on": date.fromisoformat(ends_on) if ends_on else None,
                    "updated_at": now,
                }
            )
        await connection.execute(Offer.__table__.insert(), rows)
        ids = dict((await connection.execute(select(Offer.slug, Offer.id))).all())
        texts = [
            {"offer_id": ids[slug], "language": language, **{key: entry.get(key) for key in TEXT_KEYS}}
            for slug, by_language in generated.texts.items()
            for language, entry in by_language.items()
        ]
        for start in range(0, len(texts), 10_000):
            await connection.execute(OfferText.__table__.insert(), texts[start : start + 10_000])
        changes = [
            {"offer_slug": slug, "changed_at": now, "action": "import", "source": "benchmark"}
            for slug in generated.texts
        ]
        await connection.execute(OfferChange.__table__.insert(), changes)
        await add_staff(session, ADMIN_TELEGRAM_ID, Role.ADMIN, "Bench Admin", now)


@contextlib.asynccontextmanager
async def fresh_database(args: argparse.Namespace, scratch: Path, size: int) -> AsyncIterator[AsyncEngine]:
    async with contextlib.AsyncExitStack() as stack:
        if args.database_url:
            schema, _ = await stack.enter_async_context(throwaway_schema(args.database_url))
            engine = create_engine(args.database_url)
            use_schema(engine, schema)
        else:
            engine = create_engine(f"sqlite+aiosqlite:///{scratch / f'search-{size}.sqlite3'}")
        try:
            await upgrade_to_head(engine)
            yield engine
        finally:
            await engine.dispose()


async def measure_size(args: argparse.Namespace, scratch: Path, size: int) -> SizeResult:
    rng = random.Random(args.seed)
    today = datetime.now(ZONE).date()
    now = datetime.now(UTC)
    generated = generate(size, rng, today)
    queries = make_queries(args.queries, generated, rng)
    async with fresh_database(args, scratch, size) as engine:
        factory = create_session_factory(engine)
        started = time.perf_counter()
        await write_directory(factory, generated, now)
        write_s = time.perf_counter() - started

        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        await search_index.build(engine)
        build_s = time.perf_counter() - started
        gc.collect()
        index_mb = rss_mb() - before
        async with factory() as session:
            tokens, postings = search_index.index_size(session)

        search, search_cpu, hits = Timings(), Timings(), dict.fromkeys(QUERY_KINDS, 0)
        baseline, baseline_cpu = Timings(), Timings()
        for number, query in enumerate(queries):
            now_first = number % 2 == 0  # alternated, so that the machine's load hits both alike
            for new in (now_first, not now_first):
                if new:
                    found = await timed_search(
                        factory, lambda s, q=query.text: offers.search_offers(s, q, today), search, search_cpu
                    )
                    hits[query.kind] += bool(found)
                else:
                    await timed_search(
                        factory, lambda s, q=query.text: search_as_before(s, q, today), baseline, baseline_cpu
                    )
        ranking = Timings()
        async with factory() as session:
            index = await search_index.current_index(session)
        for query in queries:
            started = time.perf_counter()
            index.ranked(query.text, today, 8)
            ranking.add(time.perf_counter() - started)
        del index
        gc.collect()
        rss_after = rss_mb()

        update, after_edit = Timings(), Timings()
        ids = dict((await timed(factory, lambda s: s.execute(select(Offer.slug, Offer.id))))[1].all())
        for number in range(args.edits):
            slug = rng.choice(generated.visible)
            word = f"neuwort{number}x{size}"

            async def edit(session: Any, offer_id: int = ids[slug], new: str = word) -> Any:
                return await offers.set_offer_text(
                    session, ADMIN_TELEGRAM_ID, offer_id, "de", "summary", f"Jetzt mit {new}.", now
                )

            await timed(factory, edit)
            found = await timed_search(
                factory, lambda s, q=word: offers.search_offers(s, q, today), after_edit, Timings()
            )
            async with factory() as session:
                update.add(search_index.last_update_seconds(session))
            if [offer.slug for offer in found] != [slug]:
                print(f"PROBLEM the edited offer {slug} was not found by its new word", file=sys.stderr)

        traced_mb = await traced_index_mb(engine) if size <= args.trace_up_to else float("nan")
        candidate = ""
        if args.candidates:
            measure = measure_pg_trgm if args.database_url else measure_fts5
            candidate = await measure(engine, generated, queries)
    return SizeResult(
        size,
        write_s,
        build_s,
        index_mb,
        traced_mb,
        rss_after,
        tokens,
        postings,
        search,
        search_cpu,
        baseline,
        baseline_cpu,
        ranking,
        hits,
        update,
        after_edit,
        candidate,
    )


# ---- the database-side candidates -------------------------------------------------------------


def _bodies(generated: Generated) -> list[tuple[int, str]]:
    """Each text's searchable words, normalised as the in-memory index does (so queries match alike)."""
    bodies = []
    for number, by_language in enumerate(generated.texts.values()):
        for entry in by_language.values():
            parts = [entry["name"], entry["summary"], entry.get("audience") or "", " ".join(entry["tags"])]
            bodies.append((number, " ".join(words(" ".join(parts)))))
    return bodies


def _report(
    name: str, build_s: float, timings: Timings, found: dict[str, int], counts: dict[str, int]
) -> str:
    shares = ", ".join(f"{kind} {found[kind]}/{counts[kind]}" for kind in QUERY_KINDS)
    p50, p95 = ms(percentile(timings.values, 50)), ms(percentile(timings.values, 95))
    return f"{name}: built in {build_s:.2f} s; search p50/p95 {p50}/{p95} ms; found: {shares}"


async def measure_fts5(engine: AsyncEngine, generated: Generated, queries: Sequence[Query]) -> str:
    """SQLite FTS5 with the trigram tokenizer: each query word (3+ letters) as a substring, ranked by bm25."""
    bodies = _bodies(generated)
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE VIRTUAL TABLE bench_fts USING fts5(body, offer UNINDEXED, tokenize='trigram')")
        )
        await connection.execute(
            text("INSERT INTO bench_fts (body, offer) VALUES (:body, :offer)"),
            [{"body": body, "offer": offer} for offer, body in bodies],
        )
    build_s = time.perf_counter() - started
    timings, found, counts = Timings(), dict.fromkeys(QUERY_KINDS, 0), dict.fromkeys(QUERY_KINDS, 0)
    for query in queries:
        terms = [term for term in query_words(query.text) if len(term) >= 3]
        counts[query.kind] += 1
        started = time.perf_counter()
        rows: list[Any] = []
        if terms:
            match = " OR ".join('"' + term.replace('"', "") + '"' for term in terms)
            async with engine.begin() as connection:
                rows = (
                    await connection.execute(
                        text(
                            "SELECT DISTINCT offer FROM bench_fts WHERE bench_fts MATCH :m "
                            "ORDER BY bm25(bench_fts) LIMIT 8"
                        ),
                        {"m": match},
                    )
                ).all()
        timings.add(time.perf_counter() - started)
        found[query.kind] += bool(rows)
    return _report("SQLite FTS5 trigram", build_s, timings, found, counts)


async def measure_pg_trgm(engine: AsyncEngine, generated: Generated, queries: Sequence[Query]) -> str:
    """PostgreSQL pg_trgm: word similarity of each query word against the texts, with a GIN index."""
    bodies = _bodies(generated)
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        await connection.execute(text("CREATE TABLE bench_trgm (offer integer, body text)"))
        await connection.execute(
            text("INSERT INTO bench_trgm (offer, body) VALUES (:offer, :body)"),
            [{"body": body, "offer": offer} for offer, body in bodies],
        )
        await connection.execute(
            text("CREATE INDEX bench_trgm_body ON bench_trgm USING gin (body public.gin_trgm_ops)")
        )
    build_s = time.perf_counter() - started
    timings, found, counts = Timings(), dict.fromkeys(QUERY_KINDS, 0), dict.fromkeys(QUERY_KINDS, 0)
    for query in queries:
        terms = query_words(query.text)
        counts[query.kind] += 1
        started = time.perf_counter()
        rows: list[Any] = []
        if terms:
            async with engine.begin() as connection:
                rows = (
                    await connection.execute(
                        text(
                            "SELECT offer, max(public.word_similarity(:q, body)) AS score FROM bench_trgm "
                            "WHERE :q OPERATOR(public.<%) body "
                            "GROUP BY offer ORDER BY score DESC LIMIT 8"
                        ),
                        {"q": " ".join(terms)},
                    )
                ).all()
        timings.add(time.perf_counter() - started)
        found[query.kind] += bool(rows)
    return _report("PostgreSQL pg_trgm", build_s, timings, found, counts)


# ---- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    kind, shown_url = describe_database(args.database_url)
    print(
        f"Wegweiser search benchmark: {', '.join(str(size) for size in args.sizes)} offers × 10 languages, "
        f"{args.queries} searches and {args.edits} admin edits each (seed {args.seed}); database: {kind} "
        f"{sqlite3.sqlite_version if kind == 'sqlite' else ''} — {shown_url}"
    )
    print(
        machine_line(
            ("SQLAlchemy", sqlalchemy.__version__),
            ("numpy", numpy.__version__),
            ("rapidfuzz", rapidfuzz.__version__),
        )
    )
    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-search-") as scratch:
        for size in args.sizes:
            result = await measure_size(args, Path(scratch), size)
            results.append(result)
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            print(
                f"\n{size} offers (load average {load}): written in {result.write_s:.1f} s; "
                f"index built in "
                f"{result.build_s:.2f} s ({result.tokens} words, {result.postings} postings, "
                f"+{result.index_mb:.0f} MB resident memory, {result.traced_mb:.1f} MB allocated by "
                f"tracemalloc); process RSS after the searches {result.rss_after_mb:.0f} MB",
                flush=True,
            )
            print("  found: " + ", ".join(f"{kind} {result.hits[kind]}" for kind in QUERY_KINDS))
            if result.candidate:
                print(f"  candidate {result.candidate}")
    print()
    header = (
        f"{'offers':>8}{'build s':>9}{'index MB':>10}{'search p50':>12}{'p95 ms':>8}"
        f"{'CPU p50':>9}{'p95 ms':>8}{'before p50':>12}{'p95 ms':>8}{'CPU p50':>9}{'p95 ms':>8}"
        f"{'rank p50':>10}{'p95 ms':>8}{'update p50':>12}{'p95 ms':>8}{'edit→search p50':>17}{'p95 ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.offers:>8}{result.build_s:>9.2f}{result.index_mb:>10.0f}{result.search.cells():>20}"
            f"{result.search_cpu.cells():>17}{result.baseline.cells():>20}{result.baseline_cpu.cells():>17}"
            f"{result.ranking.cells():>18}"
            f"{result.update.cells():>20}{result.after_edit.cells():>25}"
        )
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_search",
        description="Offer search at growing directory sizes (nothing leaves 127.0.0.1).",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[500, 5000, 50000], help="offers (500 5000 50000)"
    )
    parser.add_argument("--queries", type=int, default=300, help="timed searches per size (300)")
    parser.add_argument(
        "--edits", type=int, default=50, help="admin edits per size, each followed by a search (50)"
    )
    parser.add_argument(
        "--trace-up-to",
        type=int,
        default=5000,
        help="measure the index's allocations with tracemalloc up to this size (5000; it is slow)",
    )
    parser.add_argument("--candidates", action="store_true", help="also time FTS5 trigram or pg_trgm")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test (a throwaway schema per size); "
        "default: a fresh SQLite file per size",
    )
    args = parser.parse_args(argv)
    if min(args.sizes) < 10 or args.queries < 1 or args.edits < 1:
        parser.error("sizes must be at least 10, --queries and --edits at least 1")
    check_database_url(parser, args.database_url)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    guard_loopback()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
