"""The review status of each language's texts (``locales/status.yaml``): machine-assisted or reviewed
by a native speaker, and since when. Shown in the README and on the admin desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from locales import LOCALE_DIR, SUPPORTED_LANGUAGES

STATUS_FILE = LOCALE_DIR / "status.yaml"
STATUSES = ("source", "machine-assisted", "reviewed")


@dataclass(frozen=True)
class LanguageStatus:
    """One language's review status."""

    language: str
    status: str
    date: date

    @property
    def needs_review(self) -> bool:
        return self.status == "machine-assisted"


@cache
def translation_status() -> tuple[LanguageStatus, ...]:
    """Every supported language's status in the order of :data:`SUPPORTED_LANGUAGES`; a missing
    language, an unknown status or a missing date is an error, not a silent gap."""
    import yaml  # only an admin's offers page reads this file

    entries = yaml.safe_load(STATUS_FILE.read_text(encoding="utf-8")) or {}
    found = []
    for language in SUPPORTED_LANGUAGES:
        entry = entries.get(language)
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
            raise ValueError(f"{STATUS_FILE.name}: {language} needs a status ({', '.join(STATUSES)})")
        if not isinstance(entry.get("date"), date):
            raise ValueError(f"{STATUS_FILE.name}: {language} needs a date (YYYY-MM-DD)")
        found.append(LanguageStatus(language, entry["status"], entry["date"]))
    unknown = set(entries) - set(SUPPORTED_LANGUAGES)
    if unknown:
        raise ValueError(f"{STATUS_FILE.name}: {', '.join(sorted(unknown))} are not supported languages")
    return tuple(found)
