"""Texts that promise a period take it from the settings, in every language: the booking consent's
"at most … after your last contact" follows WEGWEISER_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from handlers.booking import consent_text
from handlers.durations import duration_text
from locales import SUPPORTED_LANGUAGES, Translator

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(("days", "months"), [(182, 6), (91, 3), (365, 12)])
def test_the_consent_names_the_configured_retention_period(language: str, days: int, months: int) -> None:
    t = Translator(language, BERLIN)
    retention = timedelta(days=Settings(retention_days=days).retention_days)

    text = consent_text(t, "Hemmingen", retention)

    assert duration_text(t, retention) == duration_text(t, timedelta(days=30.4375 * months))
    assert duration_text(t, retention) in text
    assert "{period}" not in text


def test_a_period_is_never_understated() -> None:
    t = Translator("en", BERLIN)
    assert duration_text(t, timedelta(days=182)) == "6 months"
    assert duration_text(t, timedelta(days=195)) == "7 months", "rounded up: the promise stays true"
    assert duration_text(t, timedelta(days=60), months=False) == "60 days"
    assert duration_text(t, timedelta(hours=3)) == "3 hours"
    assert duration_text(t, timedelta(hours=24)) == "1 day"
