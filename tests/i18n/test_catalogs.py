"""Every catalog is complete and every translation keeps the source's placeholders and markup."""

from __future__ import annotations

import gettext
import re
import string
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.sandbox.rules import plain_text_of_html
from locales import LOCALE_DIR, SUPPORTED_LANGUAGES, Translator, catalog_path, supported_language

TAG = re.compile(r"</?[a-z-]+[^>]*>")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]{2,32}\b")


def load(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


TEMPLATE = load(LOCALE_DIR / "messages.pot")


def placeholders(text: str) -> Counter[str]:
    return Counter(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def sources(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_translates_every_message_of_the_template(language: str) -> None:
    catalog = load(catalog_path(language))
    missing = [
        (message.context, sources(message)[0])
        for message in TEMPLATE
        if message.id
        and (
            (found := catalog.get(message.id, context=message.context)) is None
            or not all(form.strip() for form in forms(found))
            or found.fuzzy
        )
    ]
    assert missing == [], f"{language}: untranslated or fuzzy"


def numbers_per_form(catalog: Catalog) -> dict[int, set[int]]:
    """Which counts 0…1000 each plural form of the catalog's Plural-Forms expression is used for."""
    choose = gettext.c2py(catalog.plural_expr)
    numbers: dict[int, set[int]] = {form: set() for form in range(catalog.num_plurals)}
    for n in range(1001):
        numbers[choose(n)].add(n)
    return numbers


def forms_that_may_omit_n(catalog: Catalog) -> set[int]:
    """Plural forms used for exactly one count may say the number in words instead of ``{n}``
    ("heute und morgen" for 1 day; Arabic "موعد واحد" for one, "موعدان" for two, "لا … أي" for zero)."""
    return {form for form, numbers in numbers_per_form(catalog).items() if len(numbers) == 1}


def test_arabic_and_tigrinya_plural_forms_follow_cldr() -> None:
    arabic, tigrinya = load(catalog_path("ar")), load(catalog_path("ti"))

    assert arabic.plural_expr == (
        "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)"
    ), "the CLDR/GNU order: zero, one, two, few (3–10), many (11–99), other (100–102, …)"
    per_form = numbers_per_form(arabic)
    assert {0, 1, 2} == forms_that_may_omit_n(arabic), "only zero, one and two may drop {n} in Arabic"
    assert {11, 99, 111} <= per_form[4] and {100, 101, 102, 200} <= per_form[5]
    assert tigrinya.plural_expr == "(n > 1)" and numbers_per_form(tigrinya)[0] == {0, 1}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_translations_keep_placeholders_markup_and_commands(language: str) -> None:
    catalog = load(catalog_path(language))
    may_omit_n = forms_that_may_omit_n(catalog)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        source = sources(message)[-1]  # msgid_plural for plural messages: the placeholders every form keeps
        for index, form in enumerate(forms(message)):
            where = f"{language} [{message.context}] {sources(message)[0][:40]!r} form {index}"
            expected = placeholders(source)
            if isinstance(message.id, tuple) and index in may_omit_n:
                expected -= Counter({"n": 99})
                found = placeholders(form) - Counter({"n": 99})
            else:
                found = placeholders(form)
            if found != expected:
                problems.append(f"{where}: placeholders {dict(placeholders(form))}")
            if TAG.findall(form) != TAG.findall(source):
                problems.append(f"{where}: tags {TAG.findall(form)}")
            if sorted(COMMAND.findall(form)) != sorted(COMMAND.findall(source)):
                problems.append(f"{where}: commands {COMMAND.findall(form)}")
            filled = form.format(**{name: "x" for name in placeholders(form)})
            plain_text_of_html(filled)  # raises if Telegram would refuse the markup
    assert problems == []


def test_the_template_is_in_step_with_the_code(tmp_path: Path) -> None:
    from babel.messages.frontend import CommandLineInterface

    from locales.catalogs import PROJECT_ROOT, SOURCE_PACKAGES

    fresh = tmp_path / "messages.pot"
    packages = [str(PROJECT_ROOT / name) for name in SOURCE_PACKAGES if (PROJECT_ROOT / name).is_dir()]
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(LOCALE_DIR / "babel.cfg"),
            "--no-default-keywords",
            "-k",
            "pgettext:1c,2",
            "-k",
            "npgettext:1c,2,3",
            "-o",
            str(fresh),
            *packages,
        ]
    )
    in_code = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in load(fresh) if m.id}
    in_template = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in TEMPLATE if m.id}
    assert in_code == in_template, "run `python -m locales.catalogs` and translate the new texts"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_dates_and_times_are_formatted_in_every_language(language: str) -> None:
    t = Translator(language, ZoneInfo("Europe/Berlin"))
    summer_night = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, just after the change

    assert t.date(date(2026, 3, 29))
    digits = t.time(summer_night).translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2))
    assert "".join(char for char in digits if char.isdigit()) in ("330", "0330"), "local summer time"
    assert t.npgettext("test", "{n} appointment", "{n} appointments", 2)


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("de-AT", "de"),
        ("en-GB", "en"),
        ("uk", "uk"),
        ("AR", "ar"),
        ("kmr", "ku"),
        ("prs", "fa"),
        ("ja", None),
        (None, None),
        ("", None),
    ],
)
def test_client_language_tags_map_to_catalogs(client: str | None, expected: str | None) -> None:
    assert supported_language(client) == expected


def test_placeholder_values_are_escaped_for_telegram_html() -> None:
    from locales import Html

    t = Translator("de", ZoneInfo("Europe/Berlin"))

    assert (
        t.pgettext("test", "Hello {name}", name="<b>Eve & Co</b>") == "Hello &lt;b&gt;Eve &amp; Co&lt;/b&gt;"
    )
    assert t.pgettext("test", "Hello {name}", name=Html("<b>Eve</b>")) == "Hello <b>Eve</b>"


@pytest.mark.parametrize("path", sorted(LOCALE_DIR.glob("**/*.po*")), ids=lambda path: path.name)
def test_source_references_are_repository_paths_without_line_numbers(path: Path) -> None:
    references = [location for message in load(path) for location in message.locations]
    assert references, "the catalog names where its texts come from"
    assert [r for r in references if Path(r[0]).is_absolute() or r[1] is not None] == []
