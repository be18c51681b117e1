"""Offer directory benchmark: import, search and browsing with a large synthetic directory.

Run from the project root::

    .venv/bin/python -m benchmarks.bench_offers [--offers 5000] [--queries 300] [--database-url URL]

It generates a directory of N offers with texts in all ten languages (pseudo-words in each
language's script plus a few real words), writes it as a directory file, imports it with
``storage.offer_files.import_offers`` into a fresh database, and then times, each in its own
unit of work (``session_scope``) as the handlers do:

- search (``storage.offers.search_offers``): the cold first query, which builds the in-memory
  index, separately; then a mix of exact words, one-typo words, two-word queries, real words and
  misses in every script;
- browsing: ``category_counts``, ``offers_in_category`` and ``offer_for_people`` + ``card_text``;
- the index update after one admin change (``set_offer_status``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import itertools
import random
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import rapidfuzz
import sqlalchemy
import yaml
from sqlalchemy import select

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
from handlers.offer_cards import card_text
from locales import SUPPORTED_LANGUAGES, Translator
from storage import offer_files, offers, search_index
from storage.db import SessionFactory, create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Category, Offer, OfferStatus, Role
from storage.people import add_staff
from storage.search import normalize, query_words

ZONE = ZoneInfo("Europe/Berlin")
LANGUAGES = SUPPORTED_LANGUAGES  # de en uk ru ar fa ps tr ku ti
CATEGORIES = tuple(category.value for category in Category)
VOCABULARY_SIZE = 200
ADMIN_TELEGRAM_ID = 90_000_001
QUERY_KINDS = ("exact word", "one typo", "two words", "real words", "miss")

# ---- synthetic texts ----------------------------------------------------------------------------

# (consonants, vowels) per Latin or Cyrillic language; words are built from syllables.
SYLLABIC = {
    "de": ("bdfghklmnprstwzßch", "aeiouäöü"),
    "en": ("bcdfghklmnprstvwy", "aeiou"),
    "tr": ("bcçdfgğhjklmnprsştvyz", "aeıioöuü"),
    "ku": ("bcçdfghjklmnpqrsştvwxz", "aeêiîouû"),
    "uk": ("бвгґджзклмнпрстфхцчшщ", "аеєиіїоуюя"),
    "ru": ("бвгджзклмнпрстфхцчшщ", "аеёиоуыэюя"),
}
# Letters per Arabic-script language; words are 3–7 letters (short vowels are not written).
ABJAD = {
    "ar": "ابتثجحخدذرزسشصضطظعغفقكلمنهويةأإى",
    "fa": "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی",
    "ps": "ابپتټثجځچڅحخدډذرړزژږسشښصضطظعغفقکګلمنڼوهيېۍ",
}
# Ge'ez (Tigrinya): first letter of each consonant row; a syllable adds its vowel order 0–6.
ETHIOPIC_ROWS = (
    0x1200, 0x1208, 0x1210, 0x1218, 0x1228, 0x1230, 0x1238, 0x1240, 0x1260, 0x1270, 0x1278,
    0x1290, 0x1298, 0x12A0, 0x12A8, 0x12C8, 0x12D8, 0x12E8, 0x12F0, 0x1300, 0x1308, 0x1320,
    0x1328, 0x1338, 0x1348, 0x1350,
)  # fmt: skip
ETHIOPIC = [
    chr(row + order)
    for row in ETHIOPIC_ROWS
    for order in range(7)
    if unicodedata.category(chr(row + order)) == "Lo"
]

# A few real words per language, by category, so that realistic queries find something.
REAL_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "language": {
        "de": ("Deutschkurs", "Sprachkurs", "Deutsch lernen", "Integrationskurs"),
        "en": ("German course", "language course", "learn German"),
        "uk": ("курс німецької", "мовний курс", "вивчення німецької"),
        "ru": ("курс немецкого", "языковой курс", "изучение немецкого"),
        "ar": ("دورة لغة ألمانية", "تعلم الألمانية"),
        "fa": ("کلاس زبان آلمانی", "یادگیری آلمانی"),
        "ps": ("د جرمني ژبې کورس", "جرمني ژبه"),
        "tr": ("Almanca kursu", "dil kursu", "Almanca öğrenmek"),
        "ku": ("qursa almanî", "fêrbûna almanî"),
        "ti": ("ትምህርቲ ጀርመንኛ", "ቋንቋ ጀርመን"),
    },
    "housing": {
        "de": ("Wohnung", "Wohnungssuche"),
        "en": ("flat", "housing"),
        "uk": ("житло", "пошук житла"),
        "ru": ("жильё", "поиск квартиры"),
        "ar": ("سكن", "شقة"),
        "fa": ("مسکن", "آپارتمان"),
        "ps": ("کور", "استوګنځی"),
        "tr": ("konut", "daire"),
        "ku": ("xanî", "mal"),
        "ti": ("ገዛ", "መንበሪ"),
    },
    "health": {
        "de": ("Arzt", "Hausarzt", "Kinderarzt"),
        "en": ("doctor", "family doctor"),
        "uk": ("лікар", "сімейний лікар"),
        "ru": ("врач", "семейный врач"),
        "ar": ("طبيب", "طبيب أطفال"),
        "fa": ("پزشک", "دکتر"),
        "ps": ("ډاکټر", "روغتون"),
        "tr": ("doktor", "aile hekimi"),
        "ku": ("bijîşk", "nexweşxane"),
        "ti": ("ሓኪም", "ሕክምና"),
    },
    "children": {
        "de": ("Kita", "Hausaufgabenhilfe", "Kinderbetreuung"),
        "en": ("childcare", "homework help"),
        "uk": ("дитячий садок", "допомога з домашнім"),
        "ru": ("детский сад", "помощь с уроками"),
        "ar": ("روضة أطفال", "مساعدة في الواجبات"),
        "fa": ("مهدکودک", "کمک درسی"),
        "ps": ("وړکتون", "د کورني کار مرسته"),
        "tr": ("kreş", "ödev yardımı"),
        "ku": ("baxçeya zarokan", "alîkariya dersê"),
        "ti": ("ቤት ትምህርቲ", "ሓገዝ ትምህርቲ"),
    },
    "leisure": {
        "de": ("Fußball", "Sportverein"),
        "en": ("football", "sports club"),
        "uk": ("футбол", "спортивний клуб"),
        "ru": ("футбол", "спортивный клуб"),
        "ar": ("كرة القدم", "نادي رياضي"),
        "fa": ("فوتبال", "باشگاه ورزشی"),
        "ps": ("فوټبال", "لوبغالی"),
        "tr": ("futbol", "spor kulübü"),
        "ku": ("futbol", "klûba werzişê"),
        "ti": ("ኩዕሶ እግሪ", "ስፖርት"),
    },
    "work": {
        "de": ("Bewerbung", "Jobcenter", "Ausbildung"),
        "en": ("job application", "apprenticeship"),
        "uk": ("робота", "резюме"),
        "ru": ("работа", "резюме"),
        "ar": ("عمل", "طلب توظيف"),
        "fa": ("کار", "رزومه"),
        "ps": ("کار", "دنده"),
        "tr": ("iş", "iş başvurusu"),
        "ku": ("kar", "serlêdana kar"),
        "ti": ("ስራሕ", "ሕቶ ስራሕ"),
    },
}
# How people actually type some of them (spaces, lower case, missing umlauts).
EXTRA_REAL_QUERIES = ("Deutsch Kurs", "deutschkurs", "sprach kurs", "Fussball", "kurs", "arzt")
STOP_ONLY_QUERIES = ("hallo", "ich suche", "hello", "привіт", "مرحبا", "سلام", "merhaba", "I need help")


def pseudo_word(language: str, rng: random.Random) -> str:
    if language in SYLLABIC:
        consonants, vowels = SYLLABIC[language]
        syllables = [
            rng.choice(consonants)
            + rng.choice(vowels)
            + (rng.choice(consonants) if rng.random() < 0.4 else "")
            for _ in range(rng.randint(2, 4))
        ]
        return "".join(syllables)
    if language in ABJAD:
        return "".join(rng.choice(ABJAD[language]) for _ in range(rng.randint(3, 7)))
    return "".join(rng.choice(ETHIOPIC) for _ in range(rng.randint(2, 4)))


def build_vocabularies(rng: random.Random) -> dict[str, list[str]]:
    """About 200 distinct pseudo-words per language (distinct also after search normalisation)."""
    vocabularies: dict[str, list[str]] = {}
    for language in LANGUAGES:
        seen: set[str] = set()
        vocabulary: list[str] = []
        while len(vocabulary) < VOCABULARY_SIZE:
            word = pseudo_word(language, rng)
            folded = normalize(word)
            if folded in seen or query_words(word) != [folded]:
                continue
            seen.add(folded)
            vocabulary.append(word)
        vocabularies[language] = vocabulary
    return vocabularies


class Writer:
    """Draws words Zipf-like from one language's vocabulary (a few words are very common)."""

    def __init__(self, language: str, vocabulary: list[str], rng: random.Random):
        self.language = language
        self.vocabulary = vocabulary
        self.rng = rng
        self.cum_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))

    def words(self, count: int) -> list[str]:
        return self.rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=count)

    def phrase(self, low: int, high: int) -> str:
        return " ".join(self.words(self.rng.randint(low, high)))

    def capital(self, text: str) -> str:
        return text[:1].upper() + text[1:]

    def sentence(self, count: int) -> str:
        chosen = self.words(count)
        if count > 6 and self.rng.random() < 0.5:
            chosen[self.rng.randint(2, count - 3)] += ","
        return self.capital(" ".join(chosen)) + "."


@dataclass
class Generated:
    records: list[dict[str, Any]]
    texts: dict[str, dict[str, dict[str, Any]]]  # slug → language → text fields
    visible: list[str]  # slugs refugees may see
    real_used: dict[str, set[str]] = field(default_factory=dict)  # language → real words in texts


def hours_line(rng: random.Random) -> str:
    days = sorted(rng.sample(range(6), rng.randint(1, 5)))
    names = ("mon", "tue", "wed", "thu", "fri", "sat")
    parts = []
    for day in days:
        start = rng.choice((8, 9, 10, 13, 14))
        ranges = [f"{start:02d}:00-{start + rng.randint(1, 3):02d}:30"]
        if start < 12 and rng.random() < 0.3:
            ranges.append("14:00-16:00")
        parts.append(f"{names[day]} {', '.join(ranges)}")
    return "; ".join(parts)


def generate(count: int, rng: random.Random, today: date) -> Generated:
    vocabularies = build_vocabularies(rng)
    writers = {language: Writer(language, vocabularies[language], rng) for language in LANGUAGES}
    generated = Generated([], {}, [], {language: set() for language in LANGUAGES})
    for number in range(count):
        category = CATEGORIES[number % len(CATEGORIES)] if rng.random() < 0.7 else rng.choice(CATEGORIES)
        slug = f"{category}-{number:05d}"
        status = OfferStatus.ARCHIVED.value if rng.random() < 0.05 else OfferStatus.ACTIVE.value
        ends_on = None
        roll = rng.random()
        if roll < 0.05:
            ends_on = today - timedelta(days=rng.randint(1, 400))
        elif roll < 0.15:
            ends_on = today + timedelta(days=rng.randint(1, 400))
        record: dict[str, Any] = {"slug": slug, "category": category, "status": status}
        if rng.random() < 0.7:
            record["address"] = (
                f"{writers['de'].capital(rng.choice(vocabularies['de']))}straße {number % 90 + 1}"
            )
        if rng.random() < 0.4:
            record["hours"] = hours_line(rng)
        if rng.random() < 0.5:
            record["languages"] = sorted(rng.sample(LANGUAGES, rng.randint(1, 4)))
        if rng.random() < 0.6:
            record["barrier_free"] = rng.random() < 0.6
        if rng.random() < 0.6:
            record["phone"] = f"+49 7150 {rng.randint(100000, 999999)}"
        if rng.random() < 0.4:
            record["email"] = f"info{number}@example.org"
        if rng.random() < 0.4:
            record["website"] = f"https://www.example.org/{slug}"
        if rng.random() < 0.5:
            record["last_verified"] = (today - timedelta(days=rng.randint(0, 400))).isoformat()
        if ends_on is not None:
            record["ends_on"] = ends_on.isoformat()
        has_details = rng.random() < 0.15
        texts: dict[str, dict[str, Any]] = {}
        for language in LANGUAGES:
            writer = writers[language]
            real = REAL_WORDS.get(category, {}).get(language, ())
            name = writer.phrase(2, 5)
            tags = [writer.phrase(1, 2) for _ in range(rng.randint(3, 5))]
            if real and rng.random() < 0.3:
                chosen = rng.choice(real)
                name = f"{chosen} {writer.phrase(1, 3)}" if rng.random() < 0.5 else name
                tags[0] = chosen
                generated.real_used[language].add(chosen)
            entry: dict[str, Any] = {
                "name": writer.capital(name),
                "summary": " ".join(writer.sentence(n) for n in _split(rng.randint(10, 25), rng) if n),
                "tags": tags,
            }
            if rng.random() < 0.5:
                entry["audience"] = writer.phrase(3, 8)
            if rng.random() < 0.3:
                entry["cost"] = writer.phrase(1, 3)
            if has_details:
                entry["details"] = "\n\n".join(
                    " ".join(writer.sentence(rng.randint(6, 14)) for _ in range(rng.randint(2, 6)))
                    for _ in range(rng.randint(1, 4))
                )
            texts[language] = entry
        record["texts"] = texts
        generated.records.append(record)
        generated.texts[slug] = texts
        if status == OfferStatus.ACTIVE and (ends_on is None or ends_on >= today):
            generated.visible.append(slug)
    return generated


def _split(total: int, rng: random.Random) -> list[int]:
    """A summary of ``total`` words as one or two sentences."""
    if total < 14 or rng.random() < 0.5:
        return [total]
    first = rng.randint(6, total - 6)
    return [first, total - first]


def write_directory(generated: Generated, path: Path) -> None:
    if path.suffix == ".yaml":
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        with path.open("w", encoding="utf-8") as handle:
            yaml.dump(
                {"offers": generated.records},
                handle,
                Dumper=dumper,
                allow_unicode=True,
                sort_keys=False,
                width=100,
            )
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=offer_files.CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in generated.records:
            row = {key: value for key, value in record.items() if key in offer_files.BASE_COLUMNS}
            if "languages" in row:
                row["languages"] = ",".join(row["languages"])
            if "barrier_free" in row:
                row["barrier_free"] = "yes" if row["barrier_free"] else "no"
            for language, entry in record["texts"].items():
                for key, value in entry.items():
                    row[f"{key}_{language}"] = "|".join(value) if key == "tags" else value
            writer.writerow(row)


# ---- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    language: str
    text: str
    expect_hit: bool | None  # None: may or may not find something


def _text_words(entry: dict[str, Any]) -> list[str]:
    source = " ".join([entry["name"], entry["summary"], *entry["tags"]])
    return [word for word in source.replace(",", " ").replace(".", " ").split() if len(word) >= 3]


def typo(word: str, language: str, rng: random.Random) -> str:
    """The word with one letter replaced, dropped or added (edit distance 1)."""
    if language in SYLLABIC:
        alphabet = "".join(SYLLABIC[language])
    elif language in ABJAD:
        alphabet = ABJAD[language]
    else:
        alphabet = "".join(ETHIOPIC)
    for _ in range(20):
        position = rng.randrange(1, len(word))
        action = rng.choice(("replace", "drop", "add"))
        if action == "replace":
            changed = word[:position] + rng.choice(alphabet) + word[position + 1 :]
        elif action == "drop":
            changed = word[:position] + word[position + 1 :]
        else:
            changed = word[:position] + rng.choice(alphabet) + word[position:]
        if normalize(changed) != normalize(word):
            return changed
    return word + rng.choice(alphabet)


def miss_word(language: str, rng: random.Random, known: set[str]) -> str:
    """Random letters of the language's script, not a word of the directory (and, being random,
    rarely within a typo of one: the report shows how many misses found something anyway)."""
    while True:
        if language in SYLLABIC:
            consonants, _ = SYLLABIC[language]
            word = "".join(rng.choice(consonants) for _ in range(rng.randint(6, 8)))
        elif language in ABJAD:
            word = "".join(rng.choice(ABJAD[language]) for _ in range(rng.randint(8, 10)))
        else:
            word = "".join(rng.choice(ETHIOPIC) for _ in range(rng.randint(6, 8)))
        if normalize(word) not in known:
            return word


def make_queries(count: int, generated: Generated, rng: random.Random) -> list[Query]:
    known = {
        normalize(word)
        for texts in generated.texts.values()
        for e in texts.values()
        for word in _text_words(e)
    }
    queries: list[Query] = []
    for number in range(count):
        kind = QUERY_KINDS[number % len(QUERY_KINDS)]
        language = LANGUAGES[(number // len(QUERY_KINDS)) % len(LANGUAGES)]
        entry = generated.texts[rng.choice(generated.visible)][language]
        candidates = _text_words(entry)
        if kind == "exact word":
            queries.append(Query(kind, language, rng.choice(candidates), True))
        elif kind == "one typo":
            longer = [word for word in candidates if len(word) >= 5] or candidates
            queries.append(Query(kind, language, typo(rng.choice(longer), language, rng), True))
        elif kind == "two words":
            name = entry["name"].split()
            start = rng.randrange(len(name) - 1)
            queries.append(Query(kind, language, " ".join(name[start : start + 2]), True))
        elif kind == "real words":
            if rng.random() < 0.2:
                queries.append(Query(kind, language, rng.choice(EXTRA_REAL_QUERIES), None))
            else:
                used = sorted(generated.real_used[language])
                queries.append(
                    Query(kind, language, rng.choice(used), None)
                    if used
                    else Query(kind, language, rng.choice(candidates), True)
                )
        elif rng.random() < 0.15:
            queries.append(Query(kind, language, rng.choice(STOP_ONLY_QUERIES), False))
        else:
            queries.append(Query(kind, language, miss_word(language, rng, known), None))
    rng.shuffle(queries)
    return queries


# ---- measuring ----------------------------------------------------------------------------------


@dataclass
class Timings:
    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def row(self, name: str) -> str:
        values = self.values
        total = sum(values)
        rate = len(values) / total if total else float("nan")
        return (
            f"{name:<34}{len(values):>6}{ms(percentile(values, 50)):>9}{ms(percentile(values, 95)):>9}"
            f"{ms(max(values, default=float('nan'))):>9}{rate:>10.1f}"
        )


async def timed(factory: SessionFactory, work: Callable[[Any], Awaitable[Any]]) -> tuple[float, Any]:
    """Run ``work(session)`` in its own unit of work, as a handler does; (seconds, result)."""
    started = time.perf_counter()
    async with session_scope(factory) as session:
        result = await work(session)
    return time.perf_counter() - started, result


async def index_size(session: Any) -> tuple[int, int]:
    """(distinct words, postings) of the search index kept for this database."""
    return search_index.index_size(session)


async def run_benchmark(
    args: argparse.Namespace, database_url: str, schema: str | None, scratch: Path
) -> int:
    rng = random.Random(args.seed)
    today = datetime.now(ZONE).date()
    problems: list[str] = []

    started = time.perf_counter()
    generated = generate(args.offers, rng, today)
    directory = scratch / f"offers.{args.format}"
    write_directory(generated, directory)
    generate_s = time.perf_counter() - started
    texts_count = sum(len(texts) for texts in generated.texts.values())
    print(
        f"directory: {args.offers} offers, {texts_count} texts ({len(LANGUAGES)} languages), "
        f"{len(generated.visible)} visible; {directory.name} {directory.stat().st_size / 1e6:.1f} MB, "
        f"generated in {generate_s:.1f} s",
        flush=True,
    )

    engine = create_engine(database_url)
    if schema is not None:
        use_schema(engine, schema)
    try:
        await upgrade_to_head(engine)
        factory = create_session_factory(engine)

        # ---- import ----
        started = time.perf_counter()
        validated = offer_files.validate(offer_files.read_offer_file(directory))
        read_s = time.perf_counter() - started
        del validated
        now = datetime.now(UTC)
        import_s, result = await timed(factory, lambda s: offer_files.import_offers(s, directory, now))
        if len(result.created) != args.offers:
            problems.append(f"import created {len(result.created)} offers, expected {args.offers}")
        reimport_s, again = await timed(factory, lambda s: offer_files.import_offers(s, directory, now))
        if len(again.unchanged) != args.offers:
            problems.append(f"re-import left {len(again.unchanged)} of {args.offers} offers unchanged")

        async def ids_by_slug(session: Any) -> dict[str, int]:
            return dict((await session.execute(select(Offer.slug, Offer.id))).all())

        _, slug_ids = await timed(factory, ids_by_slug)
        visible_ids = [slug_ids[slug] for slug in generated.visible]

        # ---- search ----
        queries = make_queries(args.queries, generated, rng)
        cold_query = queries[0].text
        cold_s, found = await timed(factory, lambda s: offers.search_offers(s, cold_query, today))
        _, (tokens, postings) = await timed(factory, index_size)
        search_all = Timings()
        by_kind = {kind: Timings() for kind in QUERY_KINDS}
        by_language = {language: Timings() for language in LANGUAGES}
        hits = dict.fromkeys(QUERY_KINDS, 0)
        wrong: list[str] = []
        wall_started = time.perf_counter()
        for query in queries:
            seconds, found = await timed(factory, lambda s, q=query.text: offers.search_offers(s, q, today))
            search_all.add(seconds)
            by_kind[query.kind].add(seconds)
            by_language[query.language].add(seconds)
            hits[query.kind] += bool(found)
            if query.expect_hit is not None and bool(found) != query.expect_hit:
                wrong.append(f"{query.kind} {query.language} {query.text!r}: {len(found)} results")
        search_wall = time.perf_counter() - wall_started

        # ---- browsing ----
        translators = {language: Translator(language, ZONE) for language in LANGUAGES}
        counts_t, page_t, offer_t, card_t = Timings(), Timings(), Timings(), Timings()
        for _ in range(args.browse):
            seconds, counts = await timed(factory, lambda s: offers.category_counts(s, today))
            counts_t.add(seconds)
        if sum(counts.values()) != len(generated.visible):
            problems.append(
                f"category_counts total {sum(counts.values())}, expected {len(generated.visible)}"
            )
        for _ in range(args.browse):
            category, language = rng.choice(CATEGORIES), rng.choice(LANGUAGES)
            page = rng.randint(0, max(0, counts[category] // offers.PAGE_SIZE))

            async def one_page(s: Any, c: str = category, p: int = page, lang: str = language) -> Any:
                return await offers.offers_in_category(s, c, today, p, lang)

            seconds, (shown, _pages) = await timed(factory, one_page)
            page_t.add(seconds)
            if counts[category] and not shown:
                problems.append(f"offers_in_category({category}, page {page}) was empty")
        shortened = 0
        for _ in range(args.browse):
            offer_id, language = rng.choice(visible_ids), rng.choice(LANGUAGES)
            seconds, offer = await timed(factory, lambda s, i=offer_id: offers.offer_for_people(s, i, today))
            offer_t.add(seconds)
            started = time.perf_counter()
            _text, cut = card_text(translators[language], offer, datetime.now(UTC))
            card_t.add(time.perf_counter() - started)
            shortened += cut

        # ---- index update after one change ----
        await timed(factory, lambda s: add_staff(s, ADMIN_TELEGRAM_ID, Role.ADMIN, "Bench Admin", now))
        change_t, rebuild_t, warm_t = Timings(), Timings(), Timings()
        changed_slug = rng.choice(generated.visible)
        changed_id = slug_ids[changed_slug]
        probe = changed_slug.rsplit("-", 1)[1]  # the slug's number is indexed; it finds this offer first
        for status in (OfferStatus.ARCHIVED, OfferStatus.ACTIVE):
            seconds, _ = await timed(
                factory,
                lambda s, st=status: offers.set_offer_status(s, ADMIN_TELEGRAM_ID, changed_id, st, now),
            )
            change_t.add(seconds)
            seconds, found = await timed(factory, lambda s: offers.search_offers(s, probe, today))
            rebuild_t.add(seconds)
            listed = changed_id in [offer.id for offer in found]
            if listed != (status == OfferStatus.ACTIVE):
                problems.append(
                    f"after {status} the offer was {'still' if listed else 'not'} found by {probe!r}"
                )
            seconds, _ = await timed(factory, lambda s: offers.search_offers(s, probe, today))
            warm_t.add(seconds)
    finally:
        await engine.dispose()

    # ---- report ----
    print()
    print(
        f"import ({args.format}): {import_s:.2f} s for {args.offers} offers "
        f"({args.offers / import_s:.0f} offers/s; reading + validating the file alone {read_s:.2f} s); "
        f"re-import of the same file (all unchanged) {reimport_s:.2f} s"
    )
    print(
        f"search index: {tokens} distinct tokens (words and joined neighbours), {postings} postings; "
        f"cold first search {ms(cold_s)} ms (builds the index)"
    )
    print()
    header = f"{'operation':<34}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'ops/s':>10}"
    print(header)
    print("-" * len(header))
    print(search_all.row("search_offers (all queries)"))
    for kind in QUERY_KINDS:
        print(by_kind[kind].row(f"  {kind} ({hits[kind]}/{len(by_kind[kind].values)} found)"))
    print(
        "  by script: "
        + ", ".join(
            f"{language} {ms(percentile(by_language[language].values, 50))}" for language in LANGUAGES
        )
        + " (p50 ms)"
    )
    print(counts_t.row("category_counts"))
    print(page_t.row(f"offers_in_category (page of {offers.PAGE_SIZE})"))
    print(offer_t.row("offer_for_people"))
    print(card_t.row(f"card_text ({shortened} shortened)"))
    print(change_t.row("set_offer_status (admin change)"))
    print(rebuild_t.row("search after it (index updated)"))
    print(warm_t.row("search again (index current)"))
    print(
        f"\nsearch wall time {search_wall:.2f} s for {len(queries)} queries "
        f"({len(queries) / search_wall:.1f} queries/s, one at a time)"
    )
    for line in wrong[:10]:
        print(f"NOTE unexpected search outcome: {line}")
    if len(wrong) > 10:
        print(f"NOTE … and {len(wrong) - 10} more unexpected search outcomes")
    for line in problems:
        print(f"PROBLEM {line}", file=sys.stderr)
    return 1 if problems else 0


# ---- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    kind, shown_url = describe_database(args.database_url)
    print(
        f"Wegweiser offer directory benchmark: {args.offers} offers, {args.queries} searches, "
        f"{args.browse} of each browsing step (seed {args.seed})"
    )
    print(machine_line(("SQLAlchemy", sqlalchemy.__version__), ("rapidfuzz", rapidfuzz.__version__)))
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-offers-") as scratch:
        async with contextlib.AsyncExitStack() as stack:
            schema = None
            if kind == "postgresql":
                database_url = args.database_url
                schema, server_version = await stack.enter_async_context(throwaway_schema(database_url))
                print(f"database: postgresql {server_version} — {shown_url}, throwaway schema {schema}")
            else:
                database_url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.sqlite3'}"
                print(f"database: sqlite {sqlite3.sqlite_version} — {shown_url}")
            print(flush=True)
            return await run_benchmark(args, database_url, schema, Path(scratch))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_offers",
        description="Import, search and browse a large synthetic offer directory (nothing leaves 127.0.0.1).",
    )
    parser.add_argument("--offers", type=int, default=5000, help="offers in the directory (5000)")
    parser.add_argument("--queries", type=int, default=300, help="timed searches after the cold one (300)")
    parser.add_argument("--browse", type=int, default=100, help="timed calls of each browsing step (100)")
    parser.add_argument(
        "--format", choices=("csv", "yaml"), default="csv", help="directory file format to import (csv)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for the directory and queries (1)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test (a throwaway schema is created "
        "and dropped); default: a fresh SQLite file in a temp dir",
    )
    args = parser.parse_args(argv)
    if args.offers < 10 or args.queries < 1 or args.browse < 1:
        parser.error("--offers must be at least 10, --queries and --browse at least 1")
    check_database_url(parser, args.database_url)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    guard_loopback()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
