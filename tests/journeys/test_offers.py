"""Offers and clubs as refugees use them: browse, read, map, long texts, fallback, search."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.offer_cards import category_label
from locales import Translator
from storage.models import Offer
from tests.support.harness import BotUnderTest, SimulatedPerson
from tests.support.scripts import written_in

# The harness clock stands at Monday 2 March 2026, 09:00 in Hemmingen.


def t(language: str) -> Translator:
    return Translator(language, ZoneInfo("Europe/Berlin"))


async def offer_id(bot: BotUnderTest, slug: str) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(Offer.id).where(Offer.slug == slug)))


async def open_topics(person: SimulatedPerson) -> None:
    (menu,) = await person.send("/start")
    await person.tap("menu:offers", menu)


@pytest.fixture
async def directory(bot: BotUnderTest) -> BotUnderTest:
    await bot.load_offers()
    return bot


async def test_browsing_shows_only_topics_with_visible_offers(directory: BotUnderTest) -> None:
    amira = directory.person(7000, "Amira", "ar")

    await open_topics(amira)

    labels = [button["text"] for button in amira.last.buttons]
    assert labels[:2] == [
        f"{category_label(t('ar'), 'language')} (2)",
        f"{category_label(t('ar'), 'everyday')} (1)",
    ]
    assert len(labels) == 3, "ended and archived offers leave their topic empty, so it is not offered"
    assert written_in(amira.last.text, "ar")


async def test_an_offer_card_tells_what_where_when_and_how(directory: BotUnderTest) -> None:
    amira = directory.person(7001, "Amira", "ar")
    await open_topics(amira)
    await amira.tap("list:language:0")

    await amira.tap("دورة لغة ألمانية للبالغين")

    card = amira.last
    arabic = t("ar")
    assert card.text.startswith("دورة لغة ألمانية للبالغين\n\nتعلّم اللغة الألمانية")
    assert (
        arabic.pgettext(
            "offers", "🟢 Open now, until {time}", time=arabic.time(directory.clock.current.replace(hour=11))
        )
        in card.text
    )
    assert "+49 7150 000001" in card.text and "kurs@example.org" in card.text
    assert arabic.pgettext("offers", "♿ Barrier-free access") in card.text
    assert (
        arabic.pgettext("offers", "ℹ Example data: names and contact details are placeholders.") in card.text
    )
    assert (
        arabic.pgettext("offers", "🌐 This offer is not yet translated into your language.") not in card.text
    )
    website = [button for button in card.buttons if "url" in button]
    assert website == [
        {"text": arabic.pgettext("offers", "🌐 Website"), "url": "https://www.example.org/deutschkurs"}
    ]

    await amira.tap(arabic.pgettext("offers", "📍 Show on the map"), card)

    venue = amira.last.venue
    assert venue == {
        "location": {"latitude": 48.8667, "longitude": 9.0333},
        "title": "دورة لغة ألمانية للبالغين",
        "address": "Rathausplatz 1, 71282 Hemmingen",
    }
    await amira.tap(arabic.pgettext("offers", "« Back to the list"), card)
    assert "list:language:0" not in [b["callback_data"] for b in card.buttons if "callback_data" in b]


async def test_a_missing_translation_falls_back_to_german_with_a_note_and_long_texts_can_be_read_whole(
    directory: BotUnderTest,
) -> None:
    olena = directory.person(7002, "Olena", "uk")
    await open_topics(olena)
    listing = await olena.tap("list:language:0")
    ukrainian = t("uk")
    assert ukrainian.pgettext("offers", "{mark} Not yet translated into your language.", mark="🌐") in (
        listing.text
    ), "the list explains the mark on names shown in German"
    await olena.tap("🌐 Sprachcafé")

    card = olena.last
    assert "Deutsch sprechen bei Kaffee & Kuchen <für alle>." in card.text, "shown as written, safely escaped"
    assert card.text.startswith(
        ukrainian.pgettext("offers", "🌐 This offer is not yet translated into your language.")
    ), "the hint comes first, before the German name"
    assert (
        ukrainian.pgettext("offers", "🔴 Closed now · opens {day} at {time}", day="середа", time="16:00")
        in card.text
    )
    assert len(card.text) < 4096 and "…" in card.text, "the long text is shortened on the card"

    before = len(olena.bot_messages)
    await olena.tap(ukrainian.pgettext("offers", "📖 Read everything"), card)

    parts = olena.bot_messages[before:]
    assert len(parts) >= 2
    assert all(len(part.text) <= 4096 for part in parts)
    body = " ".join(part.text.split("\n\n", 1)[1] for part in parts)
    assert body.count("Abschnitt") == 14 and "Abschnitt 14:" in body


@pytest.mark.parametrize(
    ("language", "query"),
    [
        ("de", "deutschkurs"),
        ("de", "Deutsch Kurs"),
        ("uk", "курс німецької"),
        ("ar", "دورة لغة ألمانية"),
        ("en", "German  COURSE"),
        ("de", "Deutschkrus"),
        ("de", "sprach kurs"),
    ],
)
async def test_search_finds_the_german_course_in_any_language_and_spelling(
    directory: BotUnderTest, language: str, query: str
) -> None:
    person = directory.person(7003, "Sam", language)

    (reply,) = await person.send(query)

    assert written_in(reply.text.split("“")[0], language)
    target = f"offer:{await offer_id(directory, 'deutschkurs-vhs')}:s"
    assert target in [button["callback_data"] for button in reply.buttons]
    await person.tap(target, reply)
    expected_name = {
        "de": "Deutschkurs für Erwachsene",
        "en": "German course for adults",
        "uk": "Курс німецької мови для дорослих",
        "ar": "دورة لغة ألمانية للبالغين",
    }[language]
    assert person.last.text.startswith(expected_name)


async def test_search_with_slash_command_and_results_in_the_person_language(directory: BotUnderTest) -> None:
    person = directory.person(7004, "Jana", "en")

    (reply,) = await person.send("/search Lebensmittel")

    assert reply.buttons[0]["text"] == "Food bank shop"


@pytest.mark.parametrize("query", ["xylophonorchester", "ä" * 4000, "<b>bold</b> & <script>", "/search"])
async def test_searches_without_result_get_a_way_on_never_a_dead_end(
    directory: BotUnderTest, query: str
) -> None:
    person = directory.person(7005, "Ali", "fa")

    (reply,) = await person.send(query)

    data = [button["callback_data"] for button in reply.buttons]
    assert "cats" in data
    assert written_in(reply.text.replace(query[:60], ""), "fa")
    assert len(reply.text) < 600


async def test_ended_archived_and_forged_offers_get_a_clear_answer(directory: BotUnderTest) -> None:
    person = directory.person(7006, "Olena", "uk")
    (menu,) = await person.send("/start")
    unavailable = t("uk").pgettext("offers", "This offer is no longer available.")

    for slug in ("fussballverein", "altes-angebot"):
        await person.tap_data(menu, f"offer:{await offer_id(directory, slug)}:0", forged=True)
        assert person.last_query.answer_text == unavailable and person.last_query.show_alert
    await person.tap_data(menu, "offer:999999:0", forged=True)
    assert person.last_query.answer_text == unavailable
    await person.tap_data(menu, "map:999999", forged=True)
    assert person.last_query.answer_text == unavailable

    await person.tap_data(menu, "list:language:999", forged=True)
    assert "1" in person.last.text and len(person.last.buttons) == 3, (
        "a page past the end shows the last page"
    )

    (reply,) = await person.send("Fußballtraining")
    assert f"offer:{await offer_id(directory, 'fussballverein')}:s" not in [
        button.get("callback_data") for button in reply.buttons
    ]
