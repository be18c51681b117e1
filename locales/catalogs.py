"""Catalog maintenance: ``python -m locales.catalogs`` extracts every text from the code into
``messages.pot`` and merges it into each language's ``messages.po`` (creating missing ones)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from locales import DESK_DOMAIN, DESK_LANGUAGES, DOMAIN, LOCALE_DIR, SUPPORTED_LANGUAGES, catalog_path

PROJECT_ROOT = LOCALE_DIR.parent
SOURCE_PACKAGES = ("bot", "handlers", "storage")
TEMPLATE = LOCALE_DIR / "messages.pot"
DESK_TEMPLATE = LOCALE_DIR / "desk.pot"


def _pybabel(*arguments: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *arguments])


def _extract(*arguments: str) -> None:
    """Extract from the project root, so source references are repository paths without line
    numbers: catalogs do not change when code only moves, and carry no machine's absolute paths."""
    previous = Path.cwd()
    os.chdir(PROJECT_ROOT)
    try:
        _pybabel("extract", "--add-location=file", *arguments)
    finally:
        os.chdir(previous)


def extract() -> None:
    sources = [name for name in SOURCE_PACKAGES if (PROJECT_ROOT / name).is_dir()]
    _extract(
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


def extract_desk() -> None:
    """The staff desk's texts (Python with gettext/ngettext, and the Jinja2 templates)."""
    _extract(
        "-F",
        str(LOCALE_DIR / "desk-babel.cfg"),
        "--sort-by-file",
        "--no-wrap",
        "--project=Wegweiser desk",
        "--copyright-holder=Gemeinde Hemmingen",
        "-o",
        str(DESK_TEMPLATE),
        "desk",
    )


def update(
    template: Path = TEMPLATE, domain: str = DOMAIN, languages: tuple[str, ...] = SUPPORTED_LANGUAGES
) -> None:
    """Merge the template into each language's catalog of the domain (creating missing ones)."""
    for language in languages:
        common = ["-i", str(template), "-d", str(LOCALE_DIR), "-l", language, "-D", domain, "--no-wrap"]
        if catalog_path(language, domain).exists():
            _pybabel("update", *common, "--ignore-obsolete", "--no-fuzzy-matching")
        else:
            _pybabel("init", *common)


if __name__ == "__main__":
    extract()
    update()
    if (PROJECT_ROOT / "desk").is_dir():
        extract_desk()
        update(DESK_TEMPLATE, DESK_DOMAIN, DESK_LANGUAGES)
    sys.exit(0)
