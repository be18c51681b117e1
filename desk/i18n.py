"""The desk speaks German (the staff's working language) and English, from the ``desk`` catalogs."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime, format_time

from locales import DESK_DOMAIN, DESK_LANGUAGES, format_time_range, language_names, translator

DEFAULT = "de"


class DeskTexts:
    """gettext/ngettext and German-style dates for one desk language."""

    def __init__(self, language: str, zone: tzinfo):
        self.language = language if language in DESK_LANGUAGES else DEFAULT
        self.zone = zone
        self._catalog = translator(self.language, DESK_DOMAIN)

    def gettext(self, message: str, **values: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        return self._catalog.ngettext(singular, plural, n).format(n=n, **values)

    def date(self, value: date | None, fmt: str = "medium") -> str:
        return format_date(value, fmt, locale=self.language) if value else "–"

    def datetime(self, value: datetime | None, fmt: str = "medium") -> str:
        return format_datetime(value, fmt, tzinfo=self.zone, locale=self.language) if value else "–"

    def time(self, value: datetime) -> str:
        return format_time(value, "short", tzinfo=self.zone, locale=self.language)

    def time_range(self, start: datetime, end: datetime) -> str:
        return format_time_range(start, end, self.language, self.zone)

    @property
    def language_names(self) -> dict[str, str]:
        """Every supported language named in the desk's language ('Arabisch'), not in itself."""
        return language_names(self.language)
