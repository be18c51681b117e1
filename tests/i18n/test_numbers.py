"""Numbers are written as Babel writes them in each language, also where Babel is not asked."""

from __future__ import annotations

import subprocess
import sys

from babel import Locale
from babel.numbers import format_decimal

from locales import PLAIN_DIGITS_BELOW, SUPPORTED_LANGUAGES, format_number
from tests.support.bot_process import PROJECT_ROOT


def test_every_number_is_written_as_babel_writes_it_in_every_language() -> None:
    numbers = [*range(PLAIN_DIGITS_BELOW + 2), -1, -999, 1500, 12_345, 1_000_000, 2.5, 0.0]
    for language in SUPPORTED_LANGUAGES:
        locale = Locale.parse(language)
        assert [format_number(n, language) for n in numbers] == [
            format_decimal(n, locale=locale) for n in numbers
        ], language


def test_a_small_count_loads_no_locale_data() -> None:
    script = (
        "import babel.localedata\n"
        "def refused(*args, **kwargs):\n"
        "    raise AssertionError(f'locale data loaded: {args}')\n"
        "babel.localedata.load = refused\n"
        "from locales import Translator\n"
        "from zoneinfo import ZoneInfo\n"
        "t = Translator('de', ZoneInfo('Europe/Berlin'))\n"
        "text = t.npgettext('offers', 'I found {n} offer', 'I found {n} offers', 7)\n"
        "assert '7' in text, text\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True)
