"""The staff desk's catalogs (German and English) are complete and keep their placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from locales import DESK_DOMAIN, DESK_LANGUAGES, LOCALE_DIR, catalog_path


def load(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", DESK_LANGUAGES)
def test_desk_catalog_is_complete_and_keeps_placeholders(language: str) -> None:
    template = load(LOCALE_DIR / "desk.pot")
    catalog = load(catalog_path(language, DESK_DOMAIN))
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        forms = (
            list(found.string)
            if found and isinstance(found.string, tuple)
            else [found.string if found else ""]
        )
        sources = list(message.id) if isinstance(message.id, tuple) else [message.id]
        if found is None or found.fuzzy or not all(form.strip() for form in forms):
            problems.append(f"missing: {sources[0][:60]!r}")
            continue
        for form in forms:
            if names(form) - {"n"} != names(sources[-1]) - {"n"}:
                problems.append(f"placeholders: {sources[0][:60]!r}")
    assert problems == []


def test_the_desk_template_is_in_step_with_the_code(tmp_path: Path) -> None:
    from babel.messages.frontend import CommandLineInterface

    from locales.catalogs import PROJECT_ROOT

    fresh = tmp_path / "desk.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(LOCALE_DIR / "desk-babel.cfg"),
            "-o",
            str(fresh),
            str(PROJECT_ROOT / "desk"),
        ]
    )
    in_code = {m.id if isinstance(m.id, str) else m.id[0] for m in load(fresh) if m.id}
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in load(LOCALE_DIR / "desk.pot") if m.id}
    assert in_code == in_template, "run `python -m locales.catalogs` and translate the new desk texts"
