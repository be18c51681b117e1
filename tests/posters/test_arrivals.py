"""People who come through a poster are counted per source and day, as numbers only."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import inspect, select

from handlers.start import welcome_text
from locales import Translator
from storage import posters, report
from storage.db import SessionFactory, session_scope
from storage.models import PosterArrival
from tests.support.harness import BotUnderTest


async def counts(sessions: SessionFactory) -> list[tuple[str, int, int]]:
    async with sessions() as session:
        rows = await session.scalars(select(PosterArrival).order_by(PosterArrival.source))
        return [(row.source, row.starts, row.new_people) for row in rows]


async def test_a_scan_counts_for_its_source_and_the_person_is_welcomed(bot: BotUnderTest) -> None:
    amira = bot.person(7100, "Amira", "ar")

    (welcome,) = await amira.send("/start p_rathaus")
    bot.clock.advance(timedelta(days=2))
    await amira.send("/start p_rathaus")  # scanned again later: a start, not a new person
    await bot.person(7101, "Olena", "uk").send("/start p_tafel")

    assert welcome.html == welcome_text(Translator("ar", bot.settings.zone), "Hemmingen")
    assert await counts(bot.sessions) == [("rathaus", 1, 1), ("rathaus", 1, 0), ("tafel", 1, 1)]
    columns = {column.name for column in inspect(PosterArrival).columns}
    assert columns == {"source", "day", "starts", "new_people"}, "nothing that points to a person"


async def test_a_malformed_or_foreign_payload_is_a_plain_start_and_counts_nothing(bot: BotUnderTest) -> None:
    person = bot.person(7102, "Jana", "de")

    for payload in ("p_", "p_Rathaus", "p_rat.haus", "p_" + "x" * 33, "x_rathaus", "rathaus"):
        (reply,) = await person.send(f"/start {payload}")
        assert reply.html == welcome_text(Translator("de", bot.settings.zone), "Hemmingen")

    assert await counts(bot.sessions) == []


async def test_arrivals_are_summed_per_source_in_the_funding_report(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        for day, source, new in [(1, "rathaus", True), (1, "rathaus", True), (2, "rathaus", False)]:
            await posters.record_arrival(session, source, date(2026, 3, day), new_person=new)
        await posters.record_arrival(session, "tafel", date(2026, 3, 5), new_person=True)
        await posters.record_arrival(session, "tafel", date(2026, 5, 1), new_person=True)  # outside

    async with session_scope(sessions) as session:
        figures = await report.funding_report(session, date(2026, 3, 1), date(2026, 4, 30), bot_zone())

    assert figures.arrivals == (
        posters.SourceFigures("rathaus", 3, 2),
        posters.SourceFigures("tafel", 1, 1),
    )
    summary = report.summary_text(figures)
    assert "arrivals through posters" in summary
    assert any(line.split() == ["rathaus", "3", "2"] for line in summary.splitlines())


def test_only_well_formed_sources_make_a_payload() -> None:
    assert posters.start_payload("vhs-kurs2") == "p_vhs-kurs2"
    assert posters.source_of_payload("p_vhs-kurs2") == "vhs-kurs2"
    assert len(posters.start_payload("a" * 32).encode()) <= 64, "Telegram's start parameter limit"
    for bad in ("", "-a", "A", "a_b", "a" * 33):
        assert not posters.valid_source(bad)


def bot_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")
