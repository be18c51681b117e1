"""Right-to-left messages as a client lays them out: the Unicode bidi algorithm (python-bidi) runs over
rendered Arabic, Persian and Pashto messages (offer cards, appointment confirmations, reminders) and
phone numbers, e-mail addresses, URLs, case numbers and times must keep their order."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bidi import get_base_level, get_display
from sqlalchemy import select

from bot.sandbox.rules import MAX_TEXT, plain_text_of_html, utf16_length
from handlers.appointment_texts import summary_text
from handlers.offer_cards import card_text
from handlers.offers import CARD
from locales import ENDONYMS, RIGHT_TO_LEFT, Html, Translator
from storage import advisors, people
from storage.db import session_scope
from storage.models import Case, Offer, OfferText, Person, Role
from tests.support.harness import BotUnderTest

BERLIN = ZoneInfo("Europe/Berlin")
RTL = sorted(RIGHT_TO_LEFT)
PHONE, EMAIL, URL = "+49 7150 000003", "kurs@example.org", "https://desk.example.org/desk/login?token=Ab3-x_9"
ADDRESS = "Rathausplatz 1, 71282 Hemmingen"
TIME = re.compile(r"\d{1,2}:\d{2}")


def displayed(text: str) -> list[str]:
    """Each line of a message (plain text, as a client receives it) in visual order, as the client
    shows it on screen, left to right."""
    return [get_display(line) for line in text.split("\n")]


def plain(html: str) -> str:
    return plain_text_of_html(html)


def keeps_order(text: str, value: str) -> bool:
    """Whether ``value`` reads unchanged, left to right, on the screen line that shows it."""
    return any(value in line for line in displayed(text))


def is_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def time_ranges_keep_their_order(
    t: Translator, text: str, start: datetime | str, end: datetime | str
) -> None:
    """The range's start comes first in the range's own reading direction: on the left of its end in a
    left-to-right range ('08:30–13:00'), on the right in a right-to-left one ('8:30 ص – 1:00 م')."""
    shown = t.time_range(start, end).strip("\u2068\u2069")
    first, last = TIME.findall(shown)[0], TIME.findall(shown)[-1]
    line = next(line for line in displayed(text) if first in line and last in line)
    starts = [match.start() for match in re.finditer(rf"(?<!\d){re.escape(first)}", line)]
    ends = [match.start() for match in re.finditer(rf"(?<!\d){re.escape(last)}", line)]
    if is_right_to_left(shown):
        assert any(start > end for start in starts for end in ends), f"{t.language}: {line!r}"
    else:
        assert any(start < end for start in starts for end in ends), f"{t.language}: {line!r}"


def german_only_offer() -> Offer:
    offer = Offer(
        slug="deutschkurs",
        category="language",
        example=False,
        address=ADDRESS,
        hours={"mon": [["08:30", "13:00"]], "thu": [["14:00", "16:00"]]},
        languages=["de", "ar"],
        phone=PHONE,
        email=EMAIL,
    )
    offer.texts = [
        OfferText(
            language="de",
            name="Deutschkurs für Erwachsene (VHS)",
            summary="Integrationskurs A1 bis B1, vormittags.",
            audience="Erwachsene ab 18",
            cost="kostenlos mit Berechtigungsschein",
        )
    ]
    return offer


@pytest.mark.parametrize("language", RTL)
def test_an_offer_card_in_german_reads_right_to_left_with_contacts_and_hours_in_order(language: str) -> None:
    t = Translator(language, BERLIN)
    monday_morning = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN).astimezone(UTC)

    html, _ = card_text(t, german_only_offer(), monday_morning)
    text = plain(html)

    first_line = text.split("\n")[0]
    assert get_base_level(first_line) == 1, "the hint comes first, so the card is laid out right to left"
    for value in (PHONE, EMAIL, ADDRESS, "Deutschkurs für Erwachsene (VHS)", "Erwachsene ab 18"):
        assert keeps_order(text, value), f"{language}: {value!r} reversed in {displayed(text)}"
    time_ranges_keep_their_order(t, text, "08:30", "13:00")
    time_ranges_keep_their_order(t, text, "14:00", "16:00")
    assert utf16_length(text) <= MAX_TEXT, "isolates count in Telegram's length too"


def test_values_are_isolated_only_where_their_direction_differs_from_the_language() -> None:
    arabic, german = Translator("ar", BERLIN), Translator("de", BERLIN)

    assert arabic.pgettext("test", "{v}", v="Rathaus") == "\u2068Rathaus\u2069"
    assert arabic.pgettext("test", "{v}", v=PHONE) == f"\u2068{PHONE}\u2069", "digits without Arabic letters"
    assert arabic.pgettext("test", "{v}", v="السكن") == "السكن", "the language's own script stays as it is"
    assert arabic.pgettext("test", "{v}", v=Html("<b>السكن</b>")) == "<b>السكن</b>", "tags are not letters"
    once = arabic.pgettext("test", "{v}", v=arabic.time_range("08:30", "13:00"))
    assert once.count("\u2068") <= 1, "a value isolated before is not wrapped again"
    assert german.pgettext("test", "{v} (W-1)", v="محمد") == "\u2068محمد\u2069 (W-1)", "Arabic name in German"
    assert german.pgettext("test", "{v}", v=PHONE) == PHONE


@pytest.mark.parametrize("language", RTL)
def test_without_isolation_the_phone_number_would_be_reversed(language: str) -> None:
    """The check above is not vacuous: the same line without isolates is laid out wrongly."""
    t = Translator(language, BERLIN)
    line = plain(t.pgettext("offers", "☎ {phone}", phone=PHONE))

    assert keeps_order(line, PHONE)
    bare = "الهاتف: " + PHONE
    assert not keeps_order(bare, PHONE) and keeps_order(f"الهاتف: {t.isolate(PHONE)}", PHONE)


@pytest.mark.parametrize("language", RTL)
def test_an_appointment_summary_keeps_place_and_times_in_order(language: str) -> None:
    t = Translator(language, BERLIN)
    starts_at = datetime(2026, 3, 3, 8, 30, tzinfo=BERLIN).astimezone(UTC)
    ends_at = starts_at + timedelta(minutes=60)
    advisor = Person(telegram_id=1, staff_name="Anna Berger")

    text = plain(
        summary_text(
            t,
            kind="first",
            starts_at=starts_at,
            ends_at=ends_at,
            place="Rathaus Hemmingen, Zimmer 12",
            advisor=advisor,
            topic="housing",
            language="de",
            interpreter=False,
        )
    )

    assert keeps_order(text, "Rathaus Hemmingen, Zimmer 12") and keeps_order(text, "Anna")
    time_ranges_keep_their_order(t, text, starts_at, ends_at)


@pytest.mark.parametrize("language", RTL)
def test_a_sign_in_link_keeps_its_order(language: str) -> None:
    t = Translator(language, BERLIN)
    text = plain(
        t.pgettext(
            "staff",
            "Your sign-in link for the staff desk: {link}\n\nIt works once, for ten minutes. "
            "Do not forward it.",
            link=URL,
        )
    )

    assert keeps_order(text, URL)


# ---- the same through the bot and the sandbox's Bot API rules ----------------------------------

ADVISOR = 9100


@pytest.mark.parametrize("language", RTL)
async def test_cards_confirmations_and_reminders_sent_in_right_to_left_languages_keep_their_order(
    bot: BotUnderTest, language: str
) -> None:
    await bot.load_offers()
    await bot.make_staff(ADVISOR, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        await advisors.set_weekly_hours(session, anna.id, 1, "09:00-12:00")  # Tuesdays
        profile = await advisors.profile(session, anna.id)
        profile.languages, profile.place = ["de", *RTL], "Rathaus Hemmingen, Zimmer 12"
        course = await session.scalar(select(Offer.id).where(Offer.slug == "deutschkurs-vhs"))
    await bot.person(ADVISOR, "Anna", "de").send("/start")
    t = Translator(language, BERLIN)
    person = bot.person(9101, "Nour", language)

    (menu,) = await person.send("/start")
    await person.tap("menu:offers", menu)
    await person.tap("list:language:0")
    card = await person.tap(CARD.encode(course, 0))
    for value in ("+49 7150 000001", "kurs@example.org", "Rathausplatz 1, 71282 Hemmingen"):
        assert keeps_order(card.text, value), f"{language}: {value!r} in {displayed(card.text)}"
    time_ranges_keep_their_order(t, card.text, "09:00", "12:00")

    (consent,) = await person.send("/book")
    await person.tap("bagree:yes:-", consent)
    await person.tap("btopic:housing:-")
    await person.tap(ENDONYMS[language])
    await person.tap(person.last.buttons[0]["callback_data"])  # the first day: Tuesday 3 March
    starts_at = datetime(2026, 3, 3, 11, 0, tzinfo=BERLIN).astimezone(UTC)  # more than a day ahead
    await person.tap(t.time(starts_at))
    await person.tap(t.pgettext("booking", "✅ Book this appointment"))
    async with bot.sessions() as session:
        number = str(await session.scalar(select(Case.number)))
    confirmation = next(message for message in person.bot_messages if number in (message.text or ""))
    assert keeps_order(confirmation.text, number)
    time_ranges_keep_their_order(t, confirmation.text, starts_at, starts_at + timedelta(hours=1))

    before = len(person.bot_messages)
    bot.clock.current = starts_at - timedelta(hours=24)
    await bot.run_job("reminder-dispatcher")
    (reminder,) = person.bot_messages[before:]
    assert keeps_order(reminder.text, "Rathaus Hemmingen, Zimmer 12")
    time_ranges_keep_their_order(t, reminder.text, starts_at, starts_at + timedelta(hours=1))
