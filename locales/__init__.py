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
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
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


def format_date(value: date, language: str, fmt: str = "full") -> str:
    """A date in the person's language, e.g. 'Dienstag, 3. März 2026'."""
    return babel_format_date(value, format=fmt, locale=_babel_locale(language))


def format_time(value: datetime, language: str, zone: tzinfo) -> str:
    """The local wall-clock time of a UTC instant, e.g. '14:00'."""
    return babel_format_time(value, format="short", tzinfo=zone, locale=_babel_locale(language))


def format_datetime(value: datetime, language: str, zone: tzinfo, fmt: str = "medium") -> str:
    """A UTC instant shown in the configured time zone and the person's language."""
    return babel_format_datetime(value, format=fmt, tzinfo=zone, locale=_babel_locale(language))


def format_number(value: float, language: str) -> str:
    return format_decimal(value, locale=_babel_locale(language))


class Html(str):
    """A value that is already safe Telegram HTML and must not be escaped again."""


def _escaped(values: dict[str, object]) -> dict[str, object]:
    return {
        key: value if isinstance(value, Html) or not isinstance(value, str) else html.escape(value)
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

        Texts are Telegram HTML: placeholder values are escaped unless they are :class:`Html`.
        """
        text = self._catalog.pgettext(context, message)
        return text.format(**_escaped(values)) if values else text

    def npgettext(self, context: str, singular: str, plural: str, n: int, **values: object) -> str:
        """The plural form for ``n``; ``{n}`` and other named placeholders are filled."""
        text = self._catalog.npgettext(context, singular, plural, n)
        return text.format(n=format_number(n, self.language), **_escaped(values))

    @property
    def rtl(self) -> bool:
        return is_rtl(self.language)

    def date(self, value: date, fmt: str = "full") -> str:
        return format_date(value, self.language, fmt)

    def time(self, value: datetime) -> str:
        return format_time(value, self.language, self.zone)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return format_datetime(value, self.language, self.zone, fmt)
