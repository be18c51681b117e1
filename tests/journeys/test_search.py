"""Searching a large directory never holds up anyone else, and what people type is never echoed
with their passport or phone number."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot import app
from locales import Translator
from storage import search_index
from storage.db import session_scope
from storage.models import Offer, OfferText
from tests.support.harness import BotUnderTest

LANGUAGES = ("de", "en", "uk", "ru", "ar", "fa", "ps", "tr", "ku", "ti")


async def add_large_directory(bot: BotUnderTest, count: int) -> None:
    """``count`` made-up offers with texts in ten languages, written straight into the database."""
    rng = random.Random(7)
    vocabulary = [
        "".join(rng.choice("bdfgklmnprstaeiou") for _ in range(rng.randint(5, 9))) for _ in range(800)
    ]

    def sentence(words: int) -> str:
        return " ".join(rng.choices(vocabulary, k=words))

    async with session_scope(bot.sessions) as session:
        await session.execute(
            insert(Offer),
            [
                {"slug": f"made-up-{number}", "category": "leisure", "updated_at": bot.clock.current}
                for number in range(count)
            ],
        )
        ids = (await session.scalars(select(Offer.id).where(Offer.slug.like("made-up-%")))).all()
        await session.execute(
            insert(OfferText),
            [
                {
                    "offer_id": offer_id,
                    "language": language,
                    "name": sentence(3),
                    "summary": sentence(20),
                    "tags": [sentence(1) for _ in range(4)],
                }
                for offer_id in ids
                for language in LANGUAGES
            ],
        )


class SlowBuild:
    """Makes the index build's worker thread wait, once it has started, until the test lets it go
    (so that what happens meanwhile is seen however fast the machine is)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started, self.released = threading.Event(), threading.Event()
        put_all = search_index._put_all

        def slow_put_all(index: object, documents: object) -> None:
            self.started.set()
            self.released.wait(30)
            put_all(index, documents)

        monkeypatch.setattr(search_index, "_put_all", slow_put_all)

    async def has_started(self) -> bool:
        return await asyncio.to_thread(self.started.wait, 30)


async def test_the_index_is_built_in_the_background_when_the_bot_starts(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.load_offers()
    await add_large_directory(bot, 3000)
    amira, jonas = bot.person(7100, "Amira", "ar"), bot.person(7101, "Jonas", "de")
    await jonas.send("/start")
    build = SlowBuild(monkeypatch)
    try:
        started = time.monotonic()
        await bot.restart()  # a fresh process's index: built from scratch
        restarted = time.monotonic() - started
        assert await build.has_started(), "the bot starts building the index before anyone searches"
        started = time.monotonic()
        (help_reply,) = await jonas.send("/help")
        waited = time.monotonic() - started
        searching = asyncio.create_task(amira.send("Deutschkurs"))
        await asyncio.sleep(0.3)
        assert not searching.done(), "a search while the index is built waits for it"
    finally:
        build.released.set()

    assert restarted < 5.0, f"the start waited {restarted:.2f} s for the index"
    assert waited < 3.0, f"Jonas waited {waited:.2f} s"
    assert "/language" in help_reply.text
    (results,) = await searching
    assert any(button["text"] == "دورة لغة ألمانية للبالغين" for button in results.buttons)


async def test_another_person_is_answered_while_the_first_search_builds_the_index(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_at_start(_engine: object) -> None:
        return None

    monkeypatch.setattr(app, "build_search_index", not_at_start)
    await bot.load_offers()
    await add_large_directory(bot, 3000)
    await bot.restart()  # a fresh process's index, not built at the start this time
    amira, jonas = bot.person(7100, "Amira", "ar"), bot.person(7101, "Jonas", "de")
    await jonas.send("/start")
    build = SlowBuild(monkeypatch)
    try:
        searching = asyncio.create_task(amira.send("Deutschkurs"))
        assert await build.has_started(), "the first search builds the index"
        started = time.monotonic()
        (help_reply,) = await jonas.send("/help")
        waited = time.monotonic() - started
        assert not searching.done(), "the index was still being built while Jonas was answered"
    finally:
        build.released.set()

    assert waited < 3.0, f"Jonas waited {waited:.2f} s"
    assert "/language" in help_reply.text
    (results,) = await searching
    assert any(button["text"] == "دورة لغة ألمانية للبالغين" for button in results.buttons)


async def test_a_passport_number_typed_by_mistake_is_not_repeated(bot: BotUnderTest) -> None:
    await bot.load_offers()
    olena = bot.person(7102, "Olena", "uk")

    (reply,) = await olena.send("Мій номер паспорта FA 123456789, телефон +49 151 2345 6789")

    assert "123456789" not in reply.text and "2345 6789" not in reply.text
    assert "•••" in reply.text


async def test_search_results_show_names_in_the_persons_language_or_marked_in_german(
    bot: BotUnderTest,
) -> None:
    await bot.load_offers()
    amira, olena = bot.person(7103, "Amira", "ar"), bot.person(7104, "Olena", "uk")

    (arabic,) = await amira.send("Deutschkurs")
    (ukrainian,) = await olena.send("Sprachcafé")

    assert "دورة لغة ألمانية للبالغين" in [button["text"] for button in arabic.buttons]
    assert "🌐 Sprachcafé" in [button["text"] for button in ukrainian.buttons]
    note = Translator("uk", ZoneInfo("Europe/Berlin")).pgettext(
        "offers", "{mark} Not yet translated into your language.", mark="🌐"
    )
    assert note in ukrainian.text, "the list explains the mark on names shown in German"
