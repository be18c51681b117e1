"""Catalog maintenance: ``python -m locales.catalogs`` extracts every text from the code into
``messages.pot`` and merges it into each language's ``messages.po`` (creating missing ones)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from locales import LOCALE_DIR, SUPPORTED_LANGUAGES, catalog_path

PROJECT_ROOT = LOCALE_DIR.parent
SOURCE_PACKAGES = ("bot", "handlers", "storage", "desk")
TEMPLATE = LOCALE_DIR / "messages.pot"


def _pybabel(*arguments: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *arguments])


def extract() -> None:
    sources = [str(PROJECT_ROOT / name) for name in SOURCE_PACKAGES if (PROJECT_ROOT / name).is_dir()]
    _pybabel(
        "extract",
        "-F",
        str(LOCALE_DIR / "babel.cfg"),
        "--no-default-keywords",
        "-k",
        "pgettext:1c,2",
        "-k",
        "npgettext:1c,2,3",
        "--sort-by-file",
        "--no-wrap",
        "--project=Wegweiser",
        "--copyright-holder=Gemeinde Hemmingen",
        "-o",
        str(TEMPLATE),
        *sources,
    )


def update() -> None:
    for language in SUPPORTED_LANGUAGES:
        path: Path = catalog_path(language)
        if path.exists():
            _pybabel(
                "update",
                "-i",
                str(TEMPLATE),
                "-d",
                str(LOCALE_DIR),
                "-l",
                language,
                "--no-wrap",
                "--ignore-obsolete",
                "--no-fuzzy-matching",
            )
        else:
            _pybabel("init", "-i", str(TEMPLATE), "-d", str(LOCALE_DIR), "-l", language, "--no-wrap")


if __name__ == "__main__":
    extract()
    update()
    sys.exit(0)
