"""What people type, in ten languages, finds the offer they mean in the sample directory (on SQLite and
PostgreSQL): single words, phrases, whole sentences, typos, missing accents and transliterations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from storage import offer_files, offers
from storage.db import SessionFactory, session_scope

SAMPLE = Path(offer_files.__file__).parent / "sample_data" / "offers.yaml"
TODAY = date(2026, 3, 2)

# (language typed, query, the offer that must be among the first three results)
QUERIES: list[tuple[str, str, str]] = [
    ("de", "Deutschkurs", "deutschkurs-erwachsene"),
    ("de", "Deutsch Kurs", "deutschkurs-erwachsene"),
    ("de", "integrationskurs", "integrationskurs-volkshochschule"),
    ("de", "Kita", "kita-anmeldung"),
    ("de", "Kindergartenplatz", "kita-anmeldung"),
    ("de", "Hausarzt", "hilfe-hausarztsuche"),
    ("de", "Ärger mit dem Vermieter", "mieterverein"),
    ("de", "Wohnung suchen", "beratung-wohnungssuche"),
    ("de", "Schulden", "schuldnerberatung"),
    ("de", "Fussball", "sportverein-fussball-turnen"),
    ("de", "Lebensmittel billig", "tafelladen"),
    ("de", "Moebel", "moebelboerse"),
    ("de", "Kleiderkamer", "kleiderkammer"),
    ("de", "Fahrad reparieren", "fahrradwerkstatt"),
    ("de", "Ich suche einen Sprachkurs für Frauen mit Kinderbetreuung", "deutschkurs-frauen-kinderbetreuung"),
    ("de", "116117", "aerztlicher-bereitschaftsdienst-116117"),
    ("en", "German course", "deutschkurs-erwachsene"),
    ("en", "doctor at the weekend", "aerztlicher-bereitschaftsdienst-116117"),
    ("en", "food bank", "tafelladen"),
    ("en", "my landlord wants to evict me", "mieterverein"),
    ("en", "homework", "hausaufgabenhilfe"),
    ("en", "footbal", "sportverein-fussball-turnen"),
    ("en", "I am pregnant", "schwangerschaftsberatung"),
    ("en", "residence permit extension", "auslaenderbehoerde-landratsamt"),
    ("en", "kindergarden", "kita-anmeldung"),
    ("uk", "курс німецької", "deutschkurs-erwachsene"),
    ("uk", "дитячий садок", "kita-anmeldung"),
    ("uk", "Мій номер паспорта 123456789, у мене проблеми з орендодавцем", "mieterverein"),
    ("uk", "сімейний лікар", "hilfe-hausarztsuche"),
    ("uk", "борги", "schuldnerberatung"),
    ("uk", "де можна взяти одяг", "kleiderkammer"),
    ("ru", "курсы немецкого", "deutschkurs-erwachsene"),
    ("ru", "детсад", "kita-anmeldung"),
    ("ru", "джобцентр", "jobcenter-landkreis-ludwigsburg"),
    ("ru", "ищу квартиру", "beratung-wohnungssuche"),
    ("ru", "дежурный врач в выходные", "aerztlicher-bereitschaftsdienst-116117"),
    ("ru", "ремонт велосипеда", "fahrradwerkstatt"),
    ("ar", "دورة لغة ألمانية", "deutschkurs-erwachsene"),
    ("ar", "روضة", "kita-anmeldung"),
    ("ar", "طبيب عائلة", "hilfe-hausarztsuche"),
    ("ar", "عندي مشكلة مع صاحب البيت", "mieterverein"),
    ("ar", "ملابس", "kleiderkammer"),
    ("ar", "deutsch kurs", "deutschkurs-erwachsene"),
    ("ar", "الاعتراف بالشهادة", "anerkennung-auslaendischer-abschluesse"),
    ("fa", "کلاس زبان آلمانی", "deutschkurs-erwachsene"),
    ("fa", "مهد کودک", "kita-anmeldung"),
    ("fa", "كلاس زبان آلماني", "deutschkurs-erwachsene"),
    ("fa", "با صاحبخانه مشکل دارم", "mieterverein"),
    ("fa", "دکتر کشیک", "aerztlicher-bereitschaftsdienst-116117"),
    ("ps", "د الماني ژبې کورس", "deutschkurs-erwachsene"),
    ("ps", "کشیک ډاکټر", "aerztlicher-bereitschaftsdienst-116117"),
    ("ps", "وړکتون", "kita-anmeldung"),
    ("ps", "کالي", "kleiderkammer"),
    ("tr", "Almanca kursu", "deutschkurs-erwachsene"),
    ("tr", "kreş", "kita-anmeldung"),
    ("tr", "kres", "kita-anmeldung"),
    ("tr", "nöbetçi doktor", "aerztlicher-bereitschaftsdienst-116117"),
    ("tr", "ev sahibi ile sorunum var", "mieterverein"),
    ("tr", "borç", "schuldnerberatung"),
    ("ku", "qursa almanî", "deutschkurs-erwachsene"),
    ("ku", "bijîşkê malbatê", "hilfe-hausarztsuche"),
    ("ku", "baxceya zarokan", "kita-anmeldung"),
    ("ku", "cilên belaş", "kleiderkammer"),
    ("ti", "ኮርስ ጀርመንኛ", "deutschkurs-erwachsene"),
    ("ti", "ሓኪም ስድራ", "hilfe-hausarztsuche"),
    ("ti", "መዋእለ ህጻናት", "kita-anmeldung"),
    ("ti", "ክዳውንቲ", "kleiderkammer"),
]


@pytest.fixture
async def sample_directory(sessions: SessionFactory) -> SessionFactory:
    async with session_scope(sessions) as session:
        await offer_files.import_offers(session, SAMPLE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    return sessions


def test_the_table_covers_every_language_with_at_least_sixty_queries() -> None:
    languages = {language for language, _, _ in QUERIES}
    assert len(QUERIES) >= 60
    assert languages == {"de", "en", "uk", "ru", "ar", "fa", "ps", "tr", "ku", "ti"}


async def test_every_query_finds_its_offer_among_the_first_three(sample_directory: SessionFactory) -> None:
    misses = []
    for language, query, slug in QUERIES:
        async with session_scope(sample_directory) as session:
            found = [offer.slug for offer in await offers.search_offers(session, query, TODAY)]
        if slug not in found[:3]:
            misses.append(f"{language} {query!r}: {found[:3]}, expected {slug}")
    assert not misses, "\n".join(misses)
