"""Every supported language has a review status, and the README shows the same table."""

from __future__ import annotations

from datetime import date

from locales import LOCALE_DIR, SUPPORTED_LANGUAGES, language_name
from locales.status import STATUSES, translation_status

README = (LOCALE_DIR.parent / "README.md").read_text(encoding="utf-8")


def test_every_supported_language_has_a_review_status_and_a_date() -> None:
    statuses = translation_status()

    assert [status.language for status in statuses] == list(SUPPORTED_LANGUAGES)
    assert all(status.status in STATUSES and isinstance(status.date, date) for status in statuses)
    assert [status.language for status in statuses if status.status == "source"] == ["en"]


def test_the_readme_table_says_what_the_status_file_says() -> None:
    for status in translation_status():
        name = language_name(status.language, "en")
        row = f"| {status.language} | {name} | {status.status} | {status.date} |"
        assert row in README, f"README.md: the row for {status.language} should read {row!r}"
