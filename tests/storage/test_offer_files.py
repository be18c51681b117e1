"""Importing and exporting the offer directory, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import offer_files
from storage.db import SessionFactory, session_scope
from storage.models import Offer, OfferChange, OfferText
from tests.support.harness import OFFERS_FIXTURE

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SAMPLE = Path(offer_files.__file__).parent / "sample_data" / "offers.yaml"


async def import_file(sessions: SessionFactory, path: Path) -> offer_files.ImportResult:
    async with session_scope(sessions) as session:
        return await offer_files.import_offers(session, path, NOW)


async def export_file(sessions: SessionFactory, path: Path) -> str:
    async with session_scope(sessions) as session:
        await offer_files.export_offers(session, path, date(2026, 3, 2))
    return path.read_text(encoding="utf-8")


async def count(sessions: SessionFactory, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
async def test_export_then_import_gives_back_exactly_the_same_directory(
    sessions: SessionFactory, tmp_path: Path, suffix: str
) -> None:
    first = await import_file(sessions, OFFERS_FIXTURE)
    assert len(first.created) == 5
    exported = await export_file(sessions, tmp_path / f"one{suffix}")

    again = await import_file(sessions, tmp_path / f"one{suffix}")

    assert again.unchanged == sorted(first.created) or sorted(again.unchanged) == sorted(first.created)
    assert again.created == again.updated == []
    assert await export_file(sessions, tmp_path / f"two{suffix}") == exported


async def test_yaml_and_csv_describe_the_same_directory(sessions: SessionFactory, tmp_path: Path) -> None:
    await import_file(sessions, OFFERS_FIXTURE)
    yaml_before = await export_file(sessions, tmp_path / "a.yaml")
    await export_file(sessions, tmp_path / "a.csv")

    result = await import_file(sessions, tmp_path / "a.csv")

    assert result.updated == [] and result.created == []
    assert await export_file(sessions, tmp_path / "b.yaml") == yaml_before


async def test_a_file_makes_known_offers_exactly_what_it_says(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await import_file(sessions, OFFERS_FIXTURE)
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        "offers:\n"
        "  - slug: tafel\n"
        "    category: everyday\n"
        "    phone: +49 7150 000009\n"
        "    texts:\n"
        "      de: {name: Tafelladen Hemmingen, summary: Lebensmittel günstig.}\n",
        encoding="utf-8",
    )

    result = await import_file(sessions, changed)

    assert result.updated == ["tafel"]
    async with sessions() as session:
        offer = await session.scalar(select(Offer).where(Offer.slug == "tafel"))
        languages = (
            await session.scalars(select(OfferText.language).where(OfferText.offer_id == offer.id))
        ).all()
    assert (offer.phone, offer.address, offer.hours) == ("+49 7150 000009", None, None)
    assert languages == ["de"], "the English text, missing from the file, is gone"
    assert await count(sessions, Offer) == 5, "offers not in the file stay"


async def test_every_problem_is_reported_with_line_and_field_and_nothing_is_imported(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "offers:\n"
        "  - slug: Bad Slug\n"  # line 2
        "    category: sports\n"  # line 3
        "    texts:\n"
        "      de: {name: Verein, summary: Sport.}\n"
        "  - slug: good-one\n"  # line 6
        "    category: health\n"
        "    hours: monday 9-12\n"  # line 8
        "    website: javascript:alert(1)\n"  # line 9
        "    latitude: 123\n"  # line 10
        "    longitude: 9.03\n"
        "    texts:\n"
        "      xx: {name: X, summary: Y}\n"  # line 13
        "      de:\n"
        "        name: ''\n"  # line 15
        "        summary: <b>ok</b>\n"
        "  - slug: good-one\n"  # line 17
        "    category: health\n"
        "    colour: red\n"  # line 19
        "    texts: {de: {name: A, summary: B}}\n",
        encoding="utf-8",
    )

    with pytest.raises(offer_files.ImportRejected) as rejected:
        await import_file(sessions, broken)

    found = {(problem.line, problem.field) for problem in rejected.value.problems}
    assert found == {
        (2, "slug"),
        (3, "category"),
        (8, "hours"),
        (9, "website"),
        (10, "latitude"),
        (13, "texts.xx"),
        (15, "texts.de.name"),
        (19, "colour"),
    }
    assert await count(sessions, Offer) == 0 and await count(sessions, OfferChange) == 0


async def test_csv_problems_name_the_row_line(sessions: SessionFactory, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "slug,category,phone,name_de,summary_de\n"
        "ok-one,health,+49 7150 1,Arzt,Hilfe\n"
        'bad-phone,health,call me,"Zwei\nZeilen",Hilfe\n'
        "missing-texts,health,,,\n",
        encoding="utf-8",
    )

    with pytest.raises(offer_files.ImportRejected) as rejected:
        await import_file(sessions, broken)

    assert [(p.line, p.field) for p in rejected.value.problems] == [(3, "phone"), (5, "texts")]
    assert await count(sessions, Offer) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", "offers: []", "use a .yaml"),
        ("x.yaml", "offers: [unclosed", "not valid YAML"),
        ("x.yaml", "- just a list", "expected a top-level 'offers:' list"),
        ("x.csv", "slug,shoe_size\n", "unknown column"),
    ],
)
async def test_unreadable_files_are_refused(
    sessions: SessionFactory, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(offer_files.ImportRejected) as rejected:
        await import_file(sessions, path)
    assert message in str(rejected.value.problems[0])


async def test_the_sample_directory_is_valid_complete_and_marked_as_example(sessions: SessionFactory) -> None:
    result = await import_file(sessions, SAMPLE)

    assert len(result.created) >= 30
    async with sessions() as session:
        offers = (await session.scalars(select(Offer))).all()
        categories = {offer.category for offer in offers}
        languages = set((await session.scalars(select(OfferText.language))).all())
    assert len(categories) == 10
    assert all(offer.example for offer in offers)
    assert {"de", "en", "ar", "uk"} <= languages


async def test_a_csv_saved_by_german_excel_is_imported(sessions: SessionFactory, tmp_path: Path) -> None:
    excel = tmp_path / "angebote.csv"
    rows = [
        "slug;category;latitude;longitude;name_de;summary_de",
        "beratung-sued;counselling;48,8654;9,0321;Beratungsstelle Süd;Hilfe für Familien – kostenlos",
    ]
    excel.write_bytes("\r\n".join(rows).encode("cp1252") + b"\r\n")

    result = await import_file(sessions, excel)

    async with sessions() as session:
        offer = await session.scalar(select(Offer).where(Offer.slug == "beratung-sued"))
        assert offer is not None
        text = await session.scalar(select(OfferText).where(OfferText.offer_id == offer.id))
    assert result.created == ["beratung-sued"]
    assert (offer.latitude, offer.longitude) == (48.8654, 9.0321)
    assert text is not None and (text.name, text.summary) == (
        "Beratungsstelle Süd",
        "Hilfe für Familien – kostenlos",
    )


async def test_a_file_that_is_no_text_is_refused_in_one_line(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    binary = tmp_path / "offers.csv"
    binary.write_bytes(b"slug,category\n\x81\x8d\x8f\x90\x9d,health\n")  # not UTF-8, not Windows-1252

    with pytest.raises(offer_files.UnreadableFile) as refused:
        await import_file(sessions, binary)

    assert refused.value.reason == "encoding"
    assert "\n" not in str(refused.value)
    assert await count(sessions, Offer) == 0


async def test_one_bad_coordinate_is_one_problem(sessions: SessionFactory, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "slug,category,latitude,longitude,name_de,summary_de\n"
        "one,health,north,9.03,Arzt,Hilfe\n"
        "two,health,48.86,,Arzt,Hilfe\n",
        encoding="utf-8",
    )

    with pytest.raises(offer_files.ImportRejected) as rejected:
        await import_file(sessions, broken)

    assert [(problem.line, problem.field) for problem in rejected.value.problems] == [
        (2, "latitude"),
        (3, "longitude"),
    ]
