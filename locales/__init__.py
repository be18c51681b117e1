"""Gettext catalogs of every supported language, and Babel formatting of dates, times and numbers.

Catalogs are read from the committed ``.po`` files and compiled in memory on first use, so a plain
``pip install`` (editable or not) needs no build step. A compiled ``messages.mo`` beside a ``.po``
(as ``pybabel compile`` writes it) is used instead when it is at least as new; the first compile
writes one there when it can, so later starts skip parsing the ``.po`` files.
"""

from __future__ import annotations

import contextlib
import gettext
import html
import io
import os
import re
import unicodedata
from datetime import date, datetime, time, tzinfo
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_interval, format_skeleton, get_day_names
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).parent
DOMAIN = "messages"

SUPPORTED_LANGUAGES: tuple[str, ...] = ("de", "en", "uk", "ru", "ar", "fa", "ps", "tr", "ku", "ti")
RIGHT_TO_LEFT: frozenset[str] = frozenset({"ar", "fa", "ps"})

# Each language named in itself, as people look for it in a picker.
ENDONYMS: dict[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "ar": "العربية",
    "fa": "فارسی",
    "ps": "پښتو",
    "tr": "Türkçe",
    "ku": "Kurdî (Kurmancî)",
    "ti": "ትግርኛ",
}

# Telegram clients send IETF tags such as "de-AT", "pt-br" or "kmr"; these map to our catalogs.
_ALIASES: dict[str, str] = {"kmr": "ku", "prs": "fa", "ua": "uk"}


def supported_language(code: str | None) -> str | None:
    """Map a client language tag to a supported catalog, or ``None`` when we have none for it."""
    if not code:
        return None
    primary = code.replace("_", "-").split("-", 1)[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in SUPPORTED_LANGUAGES else None


DESK_DOMAIN = "desk"
DESK_LANGUAGES: tuple[str, ...] = ("de", "en")  # the staff desk: German, with English available


def catalog_path(language: str, domain: str = DOMAIN) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def _compile(po_path: Path) -> gettext.GNUTranslations:
    mo_path = po_path.with_suffix(".mo")
    po_time = po_path.stat().st_mtime
    if mo_path.exists() and mo_path.stat().st_mtime >= po_time:
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    # Babel's catalog reader and writer are loaded only when a catalog needs compiling.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    with contextlib.suppress(OSError):  # a read-only installation compiles in memory every time
        mo_path.write_bytes(buffer.getvalue())
        os.utime(mo_path, (po_time, po_time))  # as new as the .po it was read from, no newer
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def translator(language: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The translations for one language; English message ids are shown where a text is missing."""
    path = catalog_path(language, domain)
    if language == "en" or not path.exists():
        return gettext.NullTranslations()
    return _compile(path)


def is_rtl(language: str) -> bool:
    return language in RIGHT_TO_LEFT


@cache
def _babel_locale(language: str) -> Locale:
    return Locale.parse(language)


# ---- text direction ------------------------------------------------------------------------------

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
_ISOLATED = re.compile(f"{FIRST_STRONG_ISOLATE}[^{POP_DIRECTIONAL_ISOLATE}]*{POP_DIRECTIONAL_ISOLATE}")
_MARKUP = re.compile(r"<[^>]*>|&#?[a-zA-Z0-9]+;")


def _directions(text: str) -> set[str]:
    """The bidi classes of a text's characters outside markup and outside values already isolated."""
    return {unicodedata.bidirectional(char) for char in _ISOLATED.sub("", _MARKUP.sub("", text))}


def needs_isolation(value: str, language: str) -> bool:
    """Whether ``value`` is not written in the direction of ``language``'s own script.

    In a right-to-left language that is any value with left-to-right letters (a German offer name, an
    e-mail address, a URL) or with digits but no right-to-left letters (a phone number, a time range);
    in a left-to-right language, any value with right-to-left letters (an Arabic first name).
    """
    classes = _directions(value)
    right_to_left = bool(classes & {"R", "AL"})
    if is_rtl(language):
        return "L" in classes or (not right_to_left and bool(classes & {"EN", "AN"}))
    return right_to_left


def isolate(value: str, language: str) -> str:
    """``value`` wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE where its direction differs
    from the language's, so that a client lays it out on its own: '+49 7150 000003' keeps its order
    inside Arabic text. Values in the language's own script come back unchanged."""
    if not needs_isolation(value, language):
        return value
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}"


# ---- dates and times -----------------------------------------------------------------------------

NAMED_STYLES = ("full", "long", "medium", "short")  # Babel's named date formats


def format_date(value: date, language: str, fmt: str = "full") -> str:
    """A date in one of the language's named formats, e.g. 'Dienstag, 3. März 2026'."""
    if fmt not in NAMED_STYLES:
        raise ValueError(f"{fmt!r} is a fixed pattern; use a Babel skeleton through format_day")
    return babel_format_date(value, format=fmt, locale=_babel_locale(language))


def format_day(value: date, language: str, skeleton: str = "MMMEd") -> str:
    """A date as the language writes it for the fields of a CLDR skeleton: "MMMEd" gives 'Di., 3. März',
    'Tue, Mar 3', 'الثلاثاء، 3 مارس'; "MEd" gives the short numeric form 'Di., 3.3.'."""
    return format_skeleton(skeleton, value, locale=_babel_locale(language))


def weekday_name(weekday: int, language: str, width: str = "wide") -> str:
    """The name of a weekday (0 = Monday … 6 = Sunday) from Babel's locale data."""
    return get_day_names(width, context="format", locale=_babel_locale(language))[weekday]


@cache
def clock_skeleton(language: str) -> str:
    """The CLDR skeleton of the language's own clock: "hm" where its time format is 12-hour (en, ar, ti),
    "Hm" where it is 24-hour, so every time and time range in a message follows the same convention."""
    pattern = _babel_locale(language).time_formats["short"].pattern
    return "hm" if "h" in pattern or "K" in pattern else "Hm"


Clock = datetime | time | str  # a UTC instant, a wall-clock time, or a stored "HH:MM" ("24:00" ends a day)


def _wall_clock(value: Clock, zone: tzinfo) -> datetime | time:
    if isinstance(value, str):
        return time(0) if value == "24:00" else time.fromisoformat(value)
    return value.astimezone(zone) if isinstance(value, datetime) else value


def format_time(value: Clock, language: str, zone: tzinfo) -> str:
    """A time on the language's clock: a UTC instant in local time, or a wall-clock time as it is."""
    return format_skeleton(clock_skeleton(language), _wall_clock(value, zone), locale=_babel_locale(language))


def format_time_range(start: Clock, end: Clock, language: str, zone: tzinfo) -> str:
    """'09:00–12:00 Uhr', '9:00 AM – 12:00 PM', '9:00 ص – 12:00 م': Babel's interval format."""
    return format_interval(
        _wall_clock(start, zone),
        _wall_clock(end, zone),
        clock_skeleton(language),
        locale=_babel_locale(language),
    )


def format_date_range(first: date, last: date, language: str) -> str:
    """'4.–6. März 2026', 'Mar 4 – 6, 2026': Babel's interval format for days."""
    return format_interval(first, last, "yMMMd", locale=_babel_locale(language))


def format_datetime(value: datetime, language: str, zone: tzinfo, fmt: str = "medium") -> str:
    """A UTC instant shown in the configured time zone and the person's language."""
    return babel_format_datetime(value, format=fmt, tzinfo=zone, locale=_babel_locale(language))


# Whole numbers from 0 to this (exclusive) are written as plain digits in every supported language: no
# grouping, no sign (tests/i18n/test_numbers.py holds it against Babel).
PLAIN_DIGITS_BELOW = 1000


def format_number(value: float, language: str) -> str:
    """A number as the language writes it. The counts of plural texts are mostly small: those are
    written without Babel, whose locale data (1–4 MB per language, kept for good) they do not need."""
    if type(value) is int and 0 <= value < PLAIN_DIGITS_BELOW:
        return str(value)
    return format_decimal(value, locale=_babel_locale(language))


def language_name(code: str, in_language: str) -> str:
    """A language's name in another language from Babel's locale data ('Arabisch' for staff reading
    German), or its endonym where the locale data has no name for it."""
    try:
        names = _babel_locale(in_language).languages
    except (UnknownLocaleError, ValueError):
        names = {}
    return names.get(code) or ENDONYMS.get(code, code)


def language_names(in_language: str) -> dict[str, str]:
    """Every supported language named in ``in_language`` (for staff pages and messages)."""
    return {code: language_name(code, in_language) for code in SUPPORTED_LANGUAGES}


class Html(str):
    """A value that is already safe Telegram HTML and must not be escaped again."""


def _escaped(values: dict[str, object], language: str) -> dict[str, object]:
    """Placeholder values as Telegram HTML, each isolated where its direction is not the language's."""
    return {
        key: value
        if not isinstance(value, str)
        else isolate(value if isinstance(value, Html) else html.escape(value), language)
        for key, value in values.items()
    }


class Translator:
    """Everything a handler needs to speak one person's language: texts, plurals, dates, numbers."""

    __slots__ = ("_catalog", "language", "zone")

    def __init__(self, language: str, zone: tzinfo) -> None:
        self.language = language
        self.zone = zone
        self._catalog = translator(language)

    def pgettext(self, context: str, message: str, **values: object) -> str:
        """The translation of ``message`` in ``context``, with ``{named}`` placeholders filled.

        Texts are Telegram HTML: placeholder values are escaped unless they are :class:`Html`, and
        isolated where their direction differs from the language's (see :func:`isolate`).
        """
        text = self._catalog.pgettext(context, message)
        return text.format(**_escaped(values, self.language)) if values else text

    def npgettext(self, context: str, singular: str, plural: str, n: int, **values: object) -> str:
        """The plural form for ``n``; ``{n}`` and other named placeholders are filled."""
        text = self._catalog.npgettext(context, singular, plural, n)
        return text.format(n=format_number(n, self.language), **_escaped(values, self.language))

    @property
    def rtl(self) -> bool:
        return is_rtl(self.language)

    def isolate(self, value: str) -> str:
        """A value placed into a text without a placeholder, isolated like placeholder values."""
        return isolate(value, self.language)

    def date(self, value: date, fmt: str = "full") -> str:
        return format_date(value, self.language, fmt)

    def day(self, value: date, skeleton: str = "MMMEd") -> str:
        return format_day(value, self.language, skeleton)

    def weekday(self, weekday: int, width: str = "wide") -> str:
        return weekday_name(weekday, self.language, width)

    def time(self, value: Clock) -> str:
        return format_time(value, self.language, self.zone)

    def time_range(self, start: Clock, end: Clock) -> str:
        """A time range, isolated where its direction is not the language's (see :func:`isolate`)."""
        return self.isolate(format_time_range(start, end, self.language, self.zone))

    def date_range(self, first: date, last: date) -> str:
        return format_date_range(first, last, self.language)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return format_datetime(value, self.language, self.zone, fmt)

    def language_name(self, code: str) -> str:
        return language_name(code, self.language)
