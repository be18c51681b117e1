"""The calendar subscription (a secret address, shown once, revocable; the feed names no one) and
the funding report (summary on the page, CSV download) on the desk."""

from __future__ import annotations

import csv
import io
import re

import httpx
from icalendar import Calendar

from storage import booking, people
from storage.db import session_scope
from storage.models import Role
from tests.desk.bookings import advisor_with_hours, book, local
from tests.desk.conftest import DeskClient, csrf_of
from tests.support.harness import BotUnderTest

ANNA, BEN, JONAS = 9400, 9500, 9600
AMIRA, OLENA, KARIM = 9401, 9402, 9501
FEED = re.compile(r'value="(http://[^"]+/calendar/[A-Za-z0-9_-]+\.ics)"')


async def create_feed(client: httpx.AsyncClient, base: str) -> str:
    page = await client.get(f"{base}/agenda")
    response = await client.post(f"{base}/calendar/feed", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 200
    found = FEED.search(response.text)
    assert found, "the new address is shown"
    return found.group(1)


async def test_the_calendar_feed_lists_the_advisors_appointments_by_case_number_only(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    ben = await advisor_with_hours(bot, BEN, "Ben Krause")
    _, _, amira_number = await book(bot, AMIRA, "Amira", anna, local(3, 10))
    _, _, olena_number = await book(bot, OLENA, "Olena", anna, local(5, 9))
    _, _, karim_number = await book(bot, KARIM, "Karim", ben, local(3, 10))
    await book(bot, AMIRA, "Amira", anna, local(5, 11))  # her second appointment: a follow-up
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)

    address = await create_feed(client, base)
    assert address.startswith(f"{base}/calendar/")
    async with httpx.AsyncClient() as calendar_app:  # no session cookie: the address is the secret
        feed = await calendar_app.get(address)

    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    summaries = sorted(str(event["SUMMARY"]) for event in events)
    assert summaries == sorted(
        [
            f"Beratung {amira_number} (Erstberatung)",
            f"Beratung {amira_number} (Folgeberatung)",
            f"Beratung {olena_number} (Erstberatung)",
        ]
    )
    assert karim_number not in feed.text
    assert "Amira" not in feed.text and "Olena" not in feed.text, "no names in the feed"
    starts = sorted(event.decoded("DTSTART") for event in events)
    assert starts == [local(3, 10), local(5, 9), local(5, 11)]

    again = await client.get(f"{base}/agenda")
    assert address not in again.text, "the address is shown only once"


async def test_a_revoked_or_replaced_address_is_not_found(bot: BotUnderTest, desk: DeskClient) -> None:
    await advisor_with_hours(bot, ANNA, "Anna Berger")
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    first = await create_feed(client, base)
    second = await create_feed(client, base)
    csrf = csrf_of((await client.get(f"{base}/agenda")).text)

    async with httpx.AsyncClient() as calendar_app:
        replaced = await calendar_app.get(first)
        current = await calendar_app.get(second)
        forged = await client.post(f"{base}/calendar/feed/revoke")
        still = await calendar_app.get(second)
        revoked = await client.post(f"{base}/calendar/feed/revoke", data={"csrf": csrf})
        gone = await calendar_app.get(second)
        guessed = await calendar_app.get(f"{base}/calendar/not-a-token.ics")

    assert (replaced.status_code, current.status_code) == (404, 200)
    assert (forged.status_code, still.status_code) == (403, 200)
    assert revoked.status_code == 303 and revoked.headers["location"].startswith(
        "/desk/agenda?done=feed_revoked"
    )
    assert (gone.status_code, guessed.status_code) == (404, 404)


async def test_an_advisors_feed_ends_when_they_leave_the_staff(bot: BotUnderTest, desk: DeskClient) -> None:
    await advisor_with_hours(bot, ANNA, "Anna Berger")
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    address = await create_feed(client, base)
    async with session_scope(bot.sessions) as session:
        await people.remove_staff(session, ANNA)

    async with httpx.AsyncClient() as calendar_app:
        assert (await calendar_app.get(address)).status_code == 404


async def test_admins_cannot_create_a_calendar_address(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/offers")).text)

    response = await client.post(f"{base}/calendar/feed", data={"csrf": csrf})

    assert response.status_code == 403


async def test_the_report_shows_the_periods_figures_and_downloads_them_as_csv(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    first, _, _ = await book(bot, AMIRA, "Amira", anna, local(3, 10))
    bot.clock.current = local(3, 11)
    async with session_scope(bot.sessions) as session:
        await booking.record_outcome(session, bot.clock.current, first, anna, attended=True)
    advisor_client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    admin_client, _ = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    period = {"from": "2026-03-01", "to": "2026-03-31"}

    for client in (advisor_client, admin_client):
        page = await client.get(f"{base}/report", params=period)
        assert page.status_code == 200
        assert "Verwendungsnachweis" in page.text and "01.03.2026 – 31.03.2026" in page.text
        assert "Anna Berger" in page.text
        assert 'href="/desk/report.csv?from=2026-03-01&amp;to=2026-03-31"' in page.text

    download = await admin_client.get(f"{base}/report.csv", params=period)

    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        'attachment; filename="wegweiser-report-2026-03-01-2026-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["month", "advisor", "language"]
    assert rows[1][:3] == ["2026-03", "Anna Berger", "ar"]
    assert "Amira" not in download.text


async def test_the_report_refuses_an_unreadable_or_backwards_period(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)

    unreadable = await client.get(f"{base}/report", params={"from": "2026-02-30", "to": "2026-03-31"})
    backwards = await client.get(f"{base}/report.csv", params={"from": "2026-03-31", "to": "2026-03-01"})
    default = await client.get(f"{base}/report")
    async with httpx.AsyncClient() as stranger:
        signed_out = await stranger.get(f"{base}/report.csv")

    assert (unreadable.status_code, backwards.status_code) == (400, 400)
    assert "content-disposition" not in backwards.headers
    assert default.status_code == 200 and "01.03.2026 – 02.03.2026" in default.text, "this month so far"
    assert signed_out.status_code == 401
