"""Durations as the reader says them ("6 months", "3 Stunden"), for texts that promise a period
taken from the settings. Units and plurals come from Babel's locale data."""

from __future__ import annotations

import math
from datetime import timedelta

from babel.units import format_unit

from locales import Translator

AVERAGE_MONTH = timedelta(days=365.25 / 12)


def duration_text(t: Translator, period: timedelta, *, months: bool = True) -> str:
    """The period in its largest whole unit; with ``months``, periods of two months or more are
    rounded up to whole months, so that a promise ("at most …") stays true."""
    if months and period >= 2 * AVERAGE_MONTH:
        # The small tolerance keeps an exact number of average months from rounding up by float error.
        count, unit = math.ceil(period / AVERAGE_MONTH - 1e-9), "month"
    elif period % timedelta(days=1) == timedelta(0):
        count, unit = period.days, "day"
    elif period % timedelta(hours=1) == timedelta(0):
        count, unit = int(period / timedelta(hours=1)), "hour"
    else:
        count, unit = math.ceil(period / timedelta(minutes=1)), "minute"
    return format_unit(count, f"duration-{unit}", length="long", locale=t.language)
