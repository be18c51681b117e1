"""What is on this week, as a refugee sees it: the next seven days' events in their language, a
weekly event skipped on a public holiday, and a calendar file for an event."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from icalendar import Calendar

from handlers.this_week import CALENDAR_FILE
from storage import offer_files
from storage.db import session_scope
from tests.support.harness import BotUnderTest

# Monday 30 March 2026, 08:00 in Berlin; Easter Monday (6 April) is a holiday in Baden-Württemberg.
MONDAY = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
DIRECTORY = """\
offers:
  - slug: sprachcafe
    category: language
    address: Jugendhaus Hemmingen
    texts:
      de: {name: Sprachcafé, summary: Deutsch sprechen bei Tee.}
      ar: {name: مقهى اللغة, summary: تحدث الألمانية مع الشاي.}
    events:
      - weekly mon 16:00-18:00 from 2026-01-05
      - once 2026-04-02 10:00-12:00 at Rathaus, Bürgersaal
"""


async def load(bot: BotUnderTest, tmp_path: Path) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(DIRECTORY, encoding="utf-8")
    async with session_scope(bot.sessions) as session:
        await offer_files.import_offers(session, path, MONDAY)


async def test_this_week_lists_the_events_day_by_day_and_skips_the_holiday(
    bot: BotUnderTest, tmp_path: Path
) -> None:
    bot.clock.current = MONDAY
    await load(bot, tmp_path)
    amira = bot.person(8100, "Amira", "ar")
    (welcome,) = await amira.send("/start")

    await amira.tap("menu:week", welcome)

    week = amira.last
    assert amira.last_query.answered
    assert "مقهى اللغة" in week.text, "the offer's Arabic name"
    assert "Rathaus, Bürgersaal" in week.text and "Jugendhaus Hemmingen" in week.text
    assert week.text.count("مقهى اللغة") == 2, "Monday 30 March and Thursday 2 April; not Easter Monday"
    assert "٣٠" in week.text or "30" in week.text
    event_buttons = [button for button in week.buttons if button["callback_data"].startswith("wkics:")]
    assert [button["callback_data"].rsplit(":", 1)[1] for button in event_buttons] == ["20260330", "20260402"]


async def test_an_event_comes_as_a_calendar_file(bot: BotUnderTest, tmp_path: Path) -> None:
    bot.clock.current = MONDAY
    await load(bot, tmp_path)
    olena = bot.person(8101, "Olena", "uk")
    await olena.send("/week")
    week = olena.last

    await olena.tap(week.buttons[1]["callback_data"], week)

    document = olena.last
    assert document.document is not None and document.document["file_name"] == "wegweiser-event.ics"
    (event,) = Calendar.from_ical(bot.world.files[document.document["file_id"]].content).walk("VEVENT")
    assert str(event["summary"]) == "Sprachcafé", "German name: no Ukrainian text yet"
    assert event.decoded("dtstart") == datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    assert str(event["location"]) == "Rathaus, Bürgersaal"
    assert "Sprachcafé" in document.text, "the caption names the event"


async def test_a_holiday_or_forged_event_button_is_refused_kindly(bot: BotUnderTest, tmp_path: Path) -> None:
    bot.clock.current = MONDAY
    await load(bot, tmp_path)
    jana = bot.person(8102, "Jana", "de")
    await jana.send("/week")
    week = jana.last
    event_id = week.buttons[0]["callback_data"].split(":")[1]

    for forged in (CALENDAR_FILE.encode(event_id, "20260406"), CALENDAR_FILE.encode(999999, "20260330")):
        await jana.tap_data(week, forged, forged=True)
        assert jana.last_query.answered
        assert "findet dann nicht mehr statt" in (jana.last_query.answer_text or "")
    assert jana.last.message_id == week.message_id, "nothing new was sent"


async def test_an_empty_week_says_so(bot: BotUnderTest) -> None:
    bot.clock.current = MONDAY
    (reply,) = await bot.person(8103, "Jana", "de").send("/week")

    assert "In den nächsten sieben Tagen sind keine Veranstaltungen geplant." in reply.text
