"""Offer directory files (YAML and CSV): validated import, all or nothing, and a lossless export.

The format is documented in ``docs/offers-format.md``. Import upserts by slug and makes each offer in
the file exactly what the file says (texts of languages missing from the file are removed); offers
not in the file are left alone. Export followed by import gives back the same directory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from locales import SUPPORTED_LANGUAGES
from storage.hours import format_hours_line
from storage.models import Offer, OfferChange, OfferStatus, OfferText
from storage.offers import InvalidValue, all_offers, clean_offer_value, clean_text_value

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
BASE_COLUMNS = (
    "slug",
    "category",
    "status",
    "example",
    "address",
    "latitude",
    "longitude",
    "hours",
    "languages",
    "barrier_free",
    "phone",
    "email",
    "website",
    "last_verified",
    "ends_on",
)
TEXT_COLUMNS = ("name", "summary", "audience", "cost", "details", "tags")
CSV_COLUMNS = BASE_COLUMNS + tuple(
    f"{name}_{language}" for language in SUPPORTED_LANGUAGES for name in TEXT_COLUMNS
)
KNOWN_KEYS = frozenset(BASE_COLUMNS) | {"texts"}
UNREADABLE = {
    "encoding": "the file is neither UTF-8 nor Windows-1252 text; save it as CSV (UTF-8) or YAML",
    "csv": "the file is not a CSV table (columns separated by commas, semicolons or tabs)",
}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed, 5x faster


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class ImportRejected(ValueError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class UnreadableFile(ValueError):
    """The file cannot be read at all; nothing was imported. ``reason``: "encoding" (neither UTF-8
    nor Windows-1252 text) or "csv" (not a table of comma-, semicolon- or tab-separated values)."""

    def __init__(self, reason: str):
        super().__init__(UNREADABLE[reason])
        self.reason = reason


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class RawOffer:
    """One offer as read from a file, with the line of the offer and of each field."""

    line: int
    values: dict[str, Any]
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The file line of a field, or of the offer when unknown."""
        return self.lines.get(key, self.line)


# ---- reading ---------------------------------------------------------------------------------


def _yaml_offers(text: str) -> Iterator[RawOffer]:
    try:
        root = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ImportRejected([Problem(mark.line + 1 if mark else 1, "file", "not valid YAML")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("offers"), list):
        raise ImportRejected([Problem(1, "file", "expected a top-level 'offers:' list")])
    offers_node = next(value for key, value in root.value if key.value == "offers")
    for item_node, item in zip(offers_node.value, data["offers"], strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            raise ImportRejected([Problem(line, "offer", "each offer must be a mapping of fields")])
        lines = {}
        for key_node, value_node in item_node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 1
            if key_node.value == "texts" and isinstance(value_node, yaml.MappingNode):
                for language_node, fields_node in value_node.value:
                    lines[f"texts.{language_node.value}"] = language_node.start_mark.line + 1
                    if isinstance(fields_node, yaml.MappingNode):
                        for field_node, _ in fields_node.value:
                            lines[f"texts.{language_node.value}.{field_node.value}"] = (
                                field_node.start_mark.line + 1
                            )
        yield RawOffer(line, item, lines)


def decoded(data: bytes) -> str:
    """A file's text: UTF-8 (with or without BOM) first, then Windows-1252, as German Excel saves
    "CSV (Trennzeichen-getrennt)"; :class:`UnreadableFile` when it is neither."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("encoding")


def delimiter_of(text: str) -> str:
    """The column separator whose reading of the header line finds the most known columns
    (a comma when none finds any: the unknown columns are then reported)."""
    header = text.split("\n", 1)[0]
    known = {
        delimiter: len(set(next(csv.reader([header], delimiter=delimiter), [])) & set(CSV_COLUMNS))
        for delimiter in (",", ";", "\t")
    }
    return max(known, key=lambda delimiter: known[delimiter]) if any(known.values()) else ","


def _csv_offers(text: str) -> Iterator[RawOffer]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter_of(text))
    unknown = set(reader.fieldnames or ()) - set(CSV_COLUMNS)
    if unknown:
        raise ImportRejected([Problem(1, sorted(unknown)[0], "unknown column")])
    line = 2
    for row in reader:
        values: dict[str, Any] = {
            key: value for key, value in row.items() if key in BASE_COLUMNS and value != ""
        }
        texts: dict[str, dict[str, Any]] = {}
        for language in SUPPORTED_LANGUAGES:
            fields = {name: row.get(f"{name}_{language}") or "" for name in TEXT_COLUMNS}
            if any(fields.values()):
                entry: dict[str, Any] = {
                    name: value for name, value in fields.items() if value and name != "tags"
                }
                if fields["tags"]:
                    entry["tags"] = [tag.strip() for tag in fields["tags"].split("|") if tag.strip()]
                texts[language] = entry
        values["texts"] = texts
        yield RawOffer(line, values, {})
        line = reader.line_num + 1


def read_offer_file(path: Path) -> list[RawOffer]:
    """The offers in a ``.yaml``/``.yml`` or ``.csv`` file, not yet validated; :class:`UnreadableFile`
    when the file cannot be read as text or as a table."""
    text = decoded(path.read_bytes())
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return list(_yaml_offers(text))
    if suffix == ".csv":
        try:
            return list(_csv_offers(text))
        except csv.Error:
            raise UnreadableFile("csv") from None
    raise ImportRejected([Problem(1, "file", "use a .yaml, .yml or .csv file")])


# ---- validating ------------------------------------------------------------------------------


@dataclass
class CleanOffer:
    slug: str
    fields: dict[str, Any]
    texts: dict[str, dict[str, Any]]


def _clean(raw: RawOffer, problems: list[Problem]) -> CleanOffer | None:
    values = raw.values
    start = len(problems)

    def problem(key: str, message: str) -> None:
        problems.append(Problem(raw.line_of(key), key, message))

    for key in values.keys() - KNOWN_KEYS:
        problem(key, "unknown field")
    slug = str(values.get("slug") or "").strip()
    if not SLUG.match(slug):
        problem("slug", "needs 1-80 lowercase letters, digits and dashes, e.g. deutschkurs-vhs")
    fields: dict[str, Any] = {}
    for key in (
        "category",
        "address",
        "hours",
        "languages",
        "barrier_free",
        "phone",
        "email",
        "website",
        "last_verified",
        "ends_on",
    ):
        try:
            fields[key] = clean_offer_value(key, values.get(key))
        except InvalidValue as error:
            problem(key, str(error))
    status = str(values.get("status") or OfferStatus.ACTIVE).strip()
    if status not in (OfferStatus.ACTIVE, OfferStatus.ARCHIVED):
        problem("status", "must be active or archived")
    fields["status"] = status
    example = values.get("example", False)
    if isinstance(example, str):
        example = example.strip().lower() in ("yes", "true", "1", "ja")
    fields["example"] = bool(example)
    for key in ("latitude", "longitude"):
        raw_value = values.get(key)
        if raw_value in (None, ""):
            fields[key] = None
            continue
        if isinstance(raw_value, str) and raw_value.count(",") == 1 and "." not in raw_value:
            raw_value = raw_value.replace(",", ".")  # a decimal comma, as German Excel writes it
        try:
            number = float(raw_value)
        except (TypeError, ValueError):
            problem(key, "must be a number like 48.867")
            fields[key] = None
            continue
        limit = 90 if key == "latitude" else 180
        if not -limit <= number <= limit:
            problem(key, f"must be between -{limit} and {limit}")
        fields[key] = number
    given = {key for key in ("latitude", "longitude") if values.get(key) not in (None, "")}
    if len(given) == 1:  # one of them missing; a wrong one was reported above
        problem("longitude", "latitude and longitude go together")
    texts: dict[str, dict[str, Any]] = {}
    raw_texts = values.get("texts") or {}
    if not isinstance(raw_texts, dict) or not raw_texts:
        problem("texts", "at least one language needs a name and a summary")
        raw_texts = {}
    for language, entry in raw_texts.items():
        where = f"texts.{language}"
        if language not in SUPPORTED_LANGUAGES:
            problem(where, f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
            continue
        if not isinstance(entry, dict):
            problem(where, "must be a mapping of name, summary, …")
            continue
        cleaned: dict[str, Any] = {}
        for key in entry.keys() - set(TEXT_COLUMNS):
            problems.append(Problem(raw.line_of(f"{where}.{key}"), f"{where}.{key}", "unknown field"))
        for key in ("name", "summary", "audience", "cost", "details"):
            value = entry.get(key)
            try:
                cleaned[key] = clean_text_value(key, "" if value is None else str(value))
            except InvalidValue as error:
                problems.append(Problem(raw.line_of(f"{where}.{key}"), f"{where}.{key}", str(error)))
        tags = entry.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) and 0 < len(tag) <= 60 for tag in tags):
            problems.append(
                Problem(raw.line_of(f"{where}.tags"), f"{where}.tags", "must be a list of short words")
            )
        cleaned["tags"] = [tag.strip() for tag in tags] if isinstance(tags, list) else []
        texts[language] = cleaned
    if len(problems) > start:
        return None
    return CleanOffer(slug=slug, fields=fields, texts=texts)


def validate(raw_offers: list[RawOffer]) -> list[CleanOffer]:
    """Every offer checked; :class:`ImportRejected` lists every problem with line and field."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    cleaned: list[CleanOffer] = []
    for raw in raw_offers:
        offer = _clean(raw, problems)
        if offer is None:
            continue
        if offer.slug in seen:
            problems.append(Problem(raw.line_of("slug"), "slug", f"also used on line {seen[offer.slug]}"))
            continue
        seen[offer.slug] = raw.line
        cleaned.append(offer)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda problem: problem.line))
    return cleaned


# ---- writing to the database -----------------------------------------------------------------


async def import_offers(
    session: AsyncSession,
    path: Path,
    now: datetime,
    source: str = "cli import",
    changed_by: int | None = None,
) -> ImportResult:
    """Validate the whole file, then upsert every offer in it; nothing is written on any problem.
    ``changed_by`` is the admin's person id when an admin imports on the desk (None from the CLI)."""
    cleaned = validate(read_offer_file(path))
    existing = {offer.slug: offer for offer in await all_offers(session)}
    result = ImportResult()
    for item in cleaned:
        offer = existing.get(item.slug)
        before = _record_of(offer) if offer is not None else None
        if offer is None:
            offer = Offer(slug=item.slug, updated_at=now)
            session.add(offer)
            offer.texts = []
        for key, value in item.fields.items():
            setattr(offer, key, value)
        by_language = {text.language: text for text in offer.texts}
        for language in list(by_language):
            if language not in item.texts:
                offer.texts.remove(by_language.pop(language))
        for language, entry in item.texts.items():
            text = by_language.get(language)
            if text is None:
                text = OfferText(language=language)
                offer.texts.append(text)
            for key, value in entry.items():
                setattr(text, key, value)
        if before is None:
            result.created.append(item.slug)
        elif _record_of(offer) == before:
            result.unchanged.append(item.slug)
            continue
        else:
            result.updated.append(item.slug)
        offer.updated_at = now
        session.add(
            OfferChange(
                offer_slug=item.slug, changed_by=changed_by, changed_at=now, action="import", source=source
            )
        )
    await session.flush()
    return result


# ---- export ----------------------------------------------------------------------------------


def _record_of(offer: Offer) -> dict[str, Any]:
    record: dict[str, Any] = {
        "slug": offer.slug,
        "category": offer.category,
        "status": offer.status,
        "example": bool(offer.example),
        "address": offer.address,
        "latitude": offer.latitude,
        "longitude": offer.longitude,
        "hours": format_hours_line(offer.hours) or None,
        "languages": list(offer.languages) if offer.languages else None,
        "barrier_free": offer.barrier_free,
        "phone": offer.phone,
        "email": offer.email,
        "website": offer.website,
        "last_verified": offer.last_verified.isoformat() if offer.last_verified else None,
        "ends_on": offer.ends_on.isoformat() if offer.ends_on else None,
    }
    record = {key: value for key, value in record.items() if value is not None}
    texts: dict[str, dict[str, Any]] = {}
    for text in sorted(
        offer.texts,
        key=lambda text: (
            SUPPORTED_LANGUAGES.index(text.language) if text.language in SUPPORTED_LANGUAGES else 99
        ),
    ):
        entry = {key: getattr(text, key) for key in ("name", "summary", "audience", "cost", "details")}
        entry["tags"] = list(text.tags) if text.tags else None
        texts[text.language] = {key: value for key, value in entry.items() if value}
    record["texts"] = texts
    return record


def _yaml_text(records: list[dict[str, Any]], generated: date) -> str:
    header = (
        f"# Wegweiser offer directory. Format: docs/offers-format.md\n# Exported {generated.isoformat()}.\n"
    )
    return header + yaml.safe_dump({"offers": records}, allow_unicode=True, sort_keys=False, width=100)


def _csv_text(records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row: dict[str, Any] = {key: record.get(key, "") for key in BASE_COLUMNS}
        row["example"] = "yes" if record["example"] else "no"
        row["languages"] = ",".join(record.get("languages", []))
        if "barrier_free" in record:
            row["barrier_free"] = "yes" if record["barrier_free"] else "no"
        for language, entry in record["texts"].items():
            for name in TEXT_COLUMNS:
                value = entry.get(name, "")
                row[f"{name}_{language}"] = "|".join(value) if name == "tags" else value
        writer.writerow(row)
    return buffer.getvalue()


async def export_offers(session: AsyncSession, path: Path, today: date) -> int:
    """Write every offer (archived ones too) to a YAML or CSV file; returns how many."""
    records = [_record_of(offer) for offer in await all_offers(session)]
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        path.write_text(_yaml_text(records, today), encoding="utf-8")
    elif suffix == ".csv":
        path.write_text(_csv_text(records), encoding="utf-8")
    else:
        raise ImportRejected([Problem(1, "file", "use a .yaml, .yml or .csv file")])
    return len(records)
