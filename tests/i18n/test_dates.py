"""Dates and times as each language writes them: no fixed date pattern outside locales/, Babel's
skeletons, weekday names and intervals, and one clock convention (12- or 24-hour) throughout a message."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale

from bot.sandbox.rules import plain_text_of_html
from handlers.appointment_texts import summary_text
from handlers.offer_cards import card_text
from locales import LOCALE_DIR, SUPPORTED_LANGUAGES, Translator, clock_skeleton
from storage.models import Offer, OfferText, Person

ROOT = LOCALE_DIR.parent
BERLIN = ZoneInfo("Europe/Berlin")
# A CLDR date/time pattern written into code ("EEE d MMM", "EEE d.M.", "HH:mm"), a strftime format a
# person would read ("%d.%m.", "%H:%M", "%a"), or a time range glued from two times ("{a}–{b}").
FIXED_PATTERN = re.compile(
    r"""(["'])[^"'\n]*(?:\bE{3,5}\b|\bM{3,5}\b|\bd{1,2}\.M{1,2}\b|\b[Hh]{1,2}:mm\b|\by{4}\b)[^"'\n]*\1"""
)
STRFTIME = re.compile(r"%[aAbBp]|%d[./]%m|%[HI]:%M")
GLUED_RANGE = re.compile(r"time\([^()]*\)\s*\}{0,2}\s*[–—-]\s*\{{0,2}\s*[\w.]*time\(")


def sources() -> list[Path]:
    folders = ("bot", "handlers", "storage", "desk")
    return [
        path for folder in folders for path in (ROOT / folder).rglob("*") if path.suffix in (".py", ".html")
    ]


def test_no_fixed_date_pattern_remains_outside_locales() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources()
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FIXED_PATTERN.search(line)
        or (STRFTIME.search(line) and "%Y-%m-%d" not in line)  # ISO timestamps for operators are fine
        or GLUED_RANGE.search(line)
    ]
    assert found == [], "format through the Translator: t.day(), t.weekday(), t.time_range() (Babel)"


def test_the_pattern_check_finds_what_it_looks_for() -> None:
    assert FIXED_PATTERN.search("""t.date(day, "EEE d MMM")""") and FIXED_PATTERN.search("""'EEE d.M.'""")
    assert STRFTIME.search("""when.strftime("%d.%m. %H:%M")""")
    assert GLUED_RANGE.search("""f"{t.time(start)}–{t.time(end)}\"""")
    assert GLUED_RANGE.search("""{{ t.time(a.starts_at) }}–{{ t.time(a.ends_at) }}""")
    assert not FIXED_PATTERN.search("""t.day(day, "MEd")""") and not STRFTIME.search('strftime("%Y%m%d")')


def test_fixed_patterns_are_refused_by_the_translator() -> None:
    with pytest.raises(ValueError, match="skeleton"):
        Translator("de", BERLIN).date(date(2026, 3, 3), "EEE d MMM")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_days_and_weekdays_come_from_babel(language: str) -> None:
    t = Translator(language, BERLIN)
    tuesday = date(2026, 3, 3)

    assert t.day(tuesday) == t.day(tuesday, "MMMEd") and "3" in t.day(tuesday)
    assert t.weekday(1) == Locale.parse(language).days["format"]["wide"][1]
    assert t.weekday(tuesday.weekday(), "abbreviated") in t.day(tuesday) or language in ("ps", "tr", "ku")


def western(text: str) -> str:
    return text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2))


def rendered_messages(t: Translator) -> list[str]:
    """An offer card (weekly hours, 'open now, until …') and an appointment summary, as plain text."""
    offer = Offer(slug="kurs", category="language", example=False, hours={"mon": [["08:30", "13:00"]]})
    offer.texts = [OfferText(language=t.language, name="Kurs", summary="…")]
    monday_morning = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN).astimezone(UTC)
    card, _ = card_text(t, offer, monday_morning)
    summary = summary_text(
        t,
        kind="first",
        starts_at=datetime(2026, 3, 3, 14, 0, tzinfo=BERLIN).astimezone(UTC),
        ends_at=datetime(2026, 3, 3, 15, 0, tzinfo=BERLIN).astimezone(UTC),
        place="Rathaus",
        advisor=Person(telegram_id=1, staff_name="Anna"),
        topic="housing",
        language=t.language,
        interpreter=False,
    )
    return [western(plain_text_of_html(card)), western(plain_text_of_html(summary))]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_each_message_keeps_one_clock_convention(language: str) -> None:
    """Arabic showed '8:30 ص' next to '08:30–13:00': every time in a message now follows the
    language's own clock, 12-hour with its day periods or 24-hour without them."""
    t = Translator(language, BERLIN)
    periods = set(Locale.parse(language).day_periods["format"]["abbreviated"].values()) | set(
        Locale.parse(language).periods.values()
    )
    twelve_hour = clock_skeleton(language) == "hm"

    for message in rendered_messages(t):
        hours = [int(hour) for hour in re.findall(r"(\d{1,2}):\d{2}", message)]
        assert hours, message
        if twelve_hour:
            assert max(hours) <= 12, f"{language}: a 24-hour time in {message!r}"
            assert any(period in message for period in periods), f"{language}: no day period in {message!r}"
        else:
            assert max(hours) >= 13, f"{language}: afternoon written on a 12-hour clock in {message!r}"
            assert not any(period in message for period in periods if len(period) > 1), message
