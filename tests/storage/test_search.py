"""How the search ranks, folds spellings and keeps its index in step with the database (on SQLite and
PostgreSQL, and across two processes sharing one database)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import offer_files, offers, search_index
from storage.db import SessionFactory, create_engine, create_session_factory, session_scope
from storage.models import Offer, OfferStatus, Role
from storage.people import add_staff
from storage.search import OfferDocument, SearchIndex, document_fields, query_words, shown_query
from tests.support.harness import OFFERS_FIXTURE

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def offer(
    offer_id: int, name: str, summary: str = "", tags: tuple[str, ...] = (), **kwargs: object
) -> OfferDocument:
    return OfferDocument(
        offer_id=offer_id,
        category=str(kwargs.get("category", "none")),
        active=bool(kwargs.get("active", True)),
        ends_on=kwargs.get("ends_on"),  # type: ignore[arg-type]
        fields=document_fields(f"offer-{offer_id}", [(name, summary, None, list(tags))]),
    )


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex.build(
        [
            offer(1, "Mieterverein", "Rechtsberatung bei Ärger mit dem Vermieter", ("Vermieter", "Miete")),
            offer(
                2, "Deutschkurs am Abend", "Deutsch lernen in kleinen Gruppen", ("Deutschkurs", "Sprachkurs")
            ),
            offer(3, "Sprachcafé", "Deutsch sprechen bei Kaffee", ("Gespräch",)),
            offer(4, "Fahrradwerkstatt", "Fahrräder reparieren", ("Fahrrad", "Reparatur")),
            offer(5, "کلاس زبان", "یادگیری زبان آلمانی", ("کلاس آلمانی",), category="language"),
            offer(6, "Tafelladen", "Lebensmittel günstig", ("Tafel",), active=False),
            offer(7, "Gartensaison", "Gemüse anbauen", ("Garten",), ends_on=date(2026, 2, 28)),
        ]
    )


def test_one_strong_word_is_found_among_words_that_match_nothing(index: SearchIndex) -> None:
    assert index.ranked("zxqv Vermieter blorp quux", TODAY, 8)[:1] == [1]


def test_more_matching_words_rank_an_offer_higher(index: SearchIndex) -> None:
    assert index.ranked("Deutsch Abend", TODAY, 8)[0] == 2
    assert index.ranked("Deutsch Kaffee", TODAY, 8)[0] == 3


def test_stop_words_of_every_language_say_nothing(index: SearchIndex) -> None:
    for greeting in (
        "hallo ich suche",
        "I need help",
        "привіт я шукаю",
        "مرحبا أريد",
        "سلام من",
        "merhaba ben",
    ):
        assert query_words(greeting) == [], greeting
    assert index.ranked("hallo", TODAY, 8) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Mietervrein", 1),  # one typo
        ("Fahradwerkstadt", 4),  # two typos in a long word
        ("Deutsch Kurs", 2),  # joined words
        ("kurs", 2),  # inside a compound
        ("Vermieters", 1),  # another ending
        ("aerger", 1),  # ä typed as ae
        ("Fahrraeder", 4),
        ("كلاس زبان آلماني", 5),  # Arabic kaf and yeh in a Persian text
        ("Sprachcafe", 3),  # without the accent
    ],
)
def test_spellings_people_use_find_the_offer(index: SearchIndex, query: str, expected: int) -> None:
    assert index.ranked(query, TODAY, 8)[:1] == [expected]


def test_short_words_are_not_matched_loosely(index: SearchIndex) -> None:
    assert index.ranked("Tof", TODAY, 8) == []


def test_archived_and_ended_offers_are_not_found(index: SearchIndex) -> None:
    assert index.ranked("Lebensmittel", TODAY, 8) == []
    assert index.ranked("Garten", TODAY, 8) == []
    assert index.ranked("Garten", date(2026, 2, 28), 8) == [7]


def test_numbers_match_only_exactly_and_are_never_repeated() -> None:
    index = SearchIndex.build([offer(1, "Bereitschaftsdienst 116117"), offer(2, "Kleiderkammer")])
    assert index.ranked("116117", TODAY, 8) == [1]
    assert index.ranked("116118", TODAY, 8) == []
    shown = shown_query("Passport C01X00T47, phone +49 151 2345 6789, my number 123456789 Kleiderkammer")
    assert "123456789" not in shown and "2345" not in shown and "6789" not in shown
    assert shown.endswith("…") or "Kleiderkammer" in shown
    assert shown_query("B1 Kurs 2026") == "B1 Kurs 2026"


def test_putting_an_offer_again_replaces_what_the_index_knew(index: SearchIndex) -> None:
    index.put(offer(1, "Schuldnerberatung", "Hilfe bei Schulden"))
    assert index.ranked("Vermieter", TODAY, 8) == []
    assert index.ranked("Schulden", TODAY, 8) == [1]
    index.remove(1)
    assert index.ranked("Schulden", TODAY, 8) == []


def test_offers_scoring_the_same_are_listed_by_id_also_where_the_list_is_cut() -> None:
    same = [offer(offer_id, "Nähcafé", "Nähen für alle") for offer_id in (12, 3, 9, 1, 7, 5, 11, 2, 10, 4)]
    index = SearchIndex.build([*same, offer(6, "Nähcafé am Abend", "Nähen", ("Nähen",))])
    assert index.ranked("Nähen", TODAY, 100) == [6, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12]
    assert index.ranked("Nähen", TODAY, 4) == [6, 1, 2, 3]


def test_offers_put_one_at_a_time_rank_as_when_built_at_once() -> None:
    documents = [
        offer(1, "Deutschkurs", "Deutsch lernen", ("Sprachkurs",), category="language"),
        offer(2, "Sprachcafé", "Deutsch sprechen", ("Deutsch",)),
        offer(3, "Elterncafé", "Kurs für Eltern", ("Deutschkurs",), category="language"),
        offer(4, "Kursbuch", "Deutsch", ("Buch",), ends_on=date(2026, 3, 1)),
        offer(5, "Deutsch am Abend", "Sprachkurs für Berufstätige", ("Kurs",)),
    ]
    built = SearchIndex.build(documents)
    grown = SearchIndex.build(documents[3:])
    for document in documents[:3]:  # new words and postings of every weight between those there
        grown.put(document)
    chunked = SearchIndex()
    for start in range(0, 5, 2):  # as the bot builds it, chunk by chunk
        chunked.put_many(documents[start : start + 2])
    for query in ("Deutsch", "Kurs", "Deutsch Kurs", "Sprachkurs", "Eltern", "sprechen", "Sprache"):
        assert grown.ranked(query, TODAY, 8) == built.ranked(query, TODAY, 8), query
        assert chunked.ranked(query, TODAY, 8) == built.ranked(query, TODAY, 8), query
    # The word as the name first; a name beginning with it and the word as a tag score the same (by id).
    assert built.ranked("Deutsch", TODAY, 8) == [5, 1, 2, 3]
    assert built.ranked("Deutsch Kurs", TODAY, 8) == [1, 5, 3, 2]


def test_removing_an_offer_from_a_common_words_postings_removes_that_offer_only() -> None:
    # In memory 1 and 256 are 01 00 00 00 00 01 00 00: 65536 (00 00 01 00) appears across them.
    ids = [1, 256, *range(300, 370), 65536]
    index = SearchIndex.build([offer(offer_id, "Nähcafé") for offer_id in ids])
    index.remove(65536)
    assert index.ranked("Nähcafé", TODAY, 1000) == ids[:-1]
    index.remove(300)
    assert index.ranked("Nähcafé", TODAY, 1000) == [1, 256, *range(301, 370)]


def test_a_common_words_postings_in_two_bytes_per_id_lose_only_the_offer_removed() -> None:
    # In two bytes 1 and 256 are 01 00 00 01: 256 (00 01) appears across them first.
    ids = [1, 256, *range(300, 370), 65535]
    index = SearchIndex.build([offer(offer_id, "Nähcafé") for offer_id in ids])
    index.remove(256)
    assert index.ranked("Nähcafé", TODAY, 1000) == [1, *range(300, 370), 65535]


def test_ids_kept_in_four_bytes_rank_as_ids_kept_in_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Words and offers beyond what two bytes hold (here from 5 on) are kept in four, from the
    first offer that needs it on: the index finds, ranks and forgets them as before."""
    documents = [
        offer(1, "Mieterverein", "Rechtsberatung bei Ärger mit dem Vermieter", ("Vermieter", "Miete")),
        offer(2, "Deutschkurs am Abend", "Deutsch lernen", ("Deutschkurs", "Sprachkurs")),
        offer(3, "Sprachcafé", "Deutsch sprechen bei Kaffee", ("Gespräch",)),
        offer(4, "Fahrradwerkstatt", "Fahrräder reparieren", ("Fahrrad", "Reparatur")),
    ]
    later = [offer(7, "Deutsch im Garten", "Gemüse anbauen", ("Garten",)), offer(9, "Kaffee und Kurs")]
    narrow = SearchIndex.build(documents)
    monkeypatch.setattr("storage.search.NARROW_LIMIT", 5)
    wide = SearchIndex.build(documents[:2])
    wide.put_many(documents[2:])
    for document in later:
        narrow.put(document)
        wide.put(document)
    narrow.remove(2)
    wide.remove(2)
    queries = ("Deutsch", "Kurs", "Deutsch Kurs", "Vermieter", "Kaffee", "Garten", "Fahrad", "Miete")
    assert [wide.ranked(query, TODAY, 8) for query in queries] == [
        narrow.ranked(query, TODAY, 8) for query in queries
    ]
    assert wide.ranked("Garten", TODAY, 8) == [7]


def test_searching_never_imports_numpy() -> None:
    """numpy alone would add ~15 MB to the bot's memory; the index needs none of it."""
    script = (
        "import sys, bot.app\n"
        "from datetime import date\n"
        "from storage.search import SearchIndex\n"
        "from tests.storage.test_search import offer\n"
        "built = SearchIndex.build([offer(1, 'Deutschkurs', 'Deutsch lernen'), offer(2, 'Sprachcafé')])\n"
        "built.put(offer(3, 'Deutsch am Abend', category='language'))\n"
        "built.remove(2)\n"
        "assert built.ranked('Deutsch Kurs', date(2026, 3, 2), 8) == [1, 3]\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'numpy'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# ---- the index kept in step with the database ------------------------------------------------


@pytest.fixture
async def loaded(sessions: SessionFactory) -> SessionFactory:
    async with session_scope(sessions) as session:
        await offer_files.import_offers(session, OFFERS_FIXTURE, NOW)
        await add_staff(session, 1, Role.ADMIN, "Jonas", NOW)
    return sessions


async def slugs_found(sessions: SessionFactory, query: str) -> list[str]:
    async with session_scope(sessions) as session:
        return [found.slug for found in await offers.search_offers(session, query, TODAY)]


async def test_an_admin_edit_updates_the_index_in_place_within_100_ms(loaded: SessionFactory) -> None:
    assert await slugs_found(loaded, "Berechtigungsschein") == ["tafel"]
    async with loaded() as session:
        before = await search_index.current_index(session)
        tafel = int(await session.scalar(select(Offer.id).where(Offer.slug == "tafel")))
    async with session_scope(loaded) as session:
        await offers.set_offer_text(session, 1, tafel, "de", "summary", "Brot und Obst für wenig Geld", NOW)

    assert await slugs_found(loaded, "Obst") == ["tafel"]
    assert await slugs_found(loaded, "Berechtigungsschein") == []
    async with loaded() as session:
        assert await search_index.current_index(session) is before, "updated in place, not rebuilt"
        assert search_index.last_update_seconds(session) < 0.1


async def test_a_change_made_by_another_process_reaches_this_one(
    loaded: SessionFactory, engine: AsyncEngine
) -> None:
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    other = create_session_factory(other_engine)
    try:
        assert await slugs_found(other, "Lebensmittel") == ["tafel"]
        async with loaded() as session:
            tafel = int(await session.scalar(select(Offer.id).where(Offer.slug == "tafel")))
        async with session_scope(loaded) as session:
            await offers.set_offer_status(session, 1, tafel, OfferStatus.ARCHIVED, NOW)

        assert await slugs_found(other, "Lebensmittel") == []
    finally:
        await other_engine.dispose()


async def test_many_changes_rebuild_the_index_in_the_background(
    loaded: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await slugs_found(loaded, "Lebensmittel") == ["tafel"]
    monkeypatch.setattr(search_index, "INCREMENTAL_LIMIT", 1)
    async with session_scope(loaded) as session:
        for found in await offers.all_offers(session):
            await offers.set_offer_status(session, 1, found.id, OfferStatus.ARCHIVED, NOW)

    async with session_scope(loaded) as session:
        await offers.search_offers(session, "Lebensmittel", TODAY)
    async with loaded() as session:
        await search_index.settled(session)
    assert await slugs_found(loaded, "Lebensmittel") == []
