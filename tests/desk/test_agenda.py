"""The advisor's agenda on the desk: the week and the day, navigation, and "attended" / "did not
come" for the advisor's own appointments that have begun. Everyone else is refused."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from desk.i18n import DeskTexts
from locales import language_name
from storage.models import Appointment, AppointmentStatus, Role
from tests.desk.bookings import advisor_with_hours, book, local
from tests.desk.conftest import DeskClient, csrf_of
from tests.support.harness import BotUnderTest

ANNA, BEN, JONAS = 9100, 9200, 9300  # advisors and an admin
AMIRA, OLENA, KARIM = 9101, 9102, 9201  # people who booked
GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))


async def status_of(bot: BotUnderTest, appointment_id: int) -> str:
    async with bot.sessions() as session:
        appointment = await session.scalar(select(Appointment).where(Appointment.id == appointment_id))
        assert appointment is not None
        return appointment.status


async def test_the_week_shows_the_advisors_appointments_with_case_links_and_no_one_elses(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    ben = await advisor_with_hours(bot, BEN, "Ben Krause")
    _, amira_case, amira_number = await book(bot, AMIRA, "Amira", anna, local(3, 10), topic="housing")
    _, _, olena_number = await book(
        bot, OLENA, "Olena", anna, local(5, 9), topic="work", language="uk", interpreter=True
    )
    _, _, karim_number = await book(bot, KARIM, "Karim", ben, local(3, 10))
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)

    week = await client.get(f"{base}/agenda", params={"view": "week", "date": "2026-03-04"})

    assert week.status_code == 200
    html = week.text
    assert amira_number in html and olena_number in html and karim_number not in html
    assert f'href="/desk/cases/{amira_case}"' in html
    assert "Amira" in html and "Olena" in html and "Karim" not in html
    assert GERMAN.gettext("First consultation") in html
    assert GERMAN.gettext("Housing") in html and GERMAN.gettext("Work") in html
    assert (
        GERMAN.gettext("Interpreter needed for {language}").format(language=language_name("uk", "de")) in html
    )
    assert "11:00" in html and "10:00" in html, "local times (10:00 Berlin is 09:00 UTC)"
    assert "date=2026-02-25" in html and "date=2026-03-11" in html, "previous and next week"
    assert 'name="value" value="yes"' not in html, "no outcome before an appointment begins"

    day = await client.get(f"{base}/agenda", params={"view": "day", "date": "2026-03-05"})

    assert olena_number in day.text and amira_number not in day.text
    assert "date=2026-03-04" in day.text and "date=2026-03-06" in day.text


async def test_an_unreadable_date_shows_this_week(bot: BotUnderTest, desk: DeskClient) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    _, _, number = await book(bot, AMIRA, "Amira", anna, local(3, 10))
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)

    response = await client.get(f"{base}/agenda", params={"view": "month", "date": "2026-02-31"})

    assert response.status_code == 200 and number in response.text


async def test_after_an_appointment_began_the_advisor_records_the_outcome(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    first, _, _ = await book(bot, AMIRA, "Amira", anna, local(3, 10))
    later, _, _ = await book(bot, OLENA, "Olena", anna, local(5, 9))
    bot.clock.current = local(3, 10, 20)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page = await client.get(f"{base}/agenda")
    assert page.text.count('name="value" value="yes"') == 1, "only the appointment that began"

    attended = await client.post(
        f"{base}/appointments/{first}/outcome",
        data={"csrf": csrf_of(page.text), "value": "yes", "view": "week", "date": "2026-03-03"},
    )

    assert attended.status_code == 303
    assert attended.headers["location"] == "/desk/agenda?view=week&date=2026-03-03&done=attended"
    assert await status_of(bot, first) == AppointmentStatus.ATTENDED
    shown = await client.get(f"{base}{attended.headers['location'].removeprefix('/desk')}")
    assert GERMAN.gettext("Recorded: the person came.") in shown.text

    corrected = await client.post(
        f"{base}/appointments/{first}/outcome", data={"csrf": csrf_of(page.text), "value": "no"}
    )
    too_early = await client.post(
        f"{base}/appointments/{later}/outcome", data={"csrf": csrf_of(page.text), "value": "yes"}
    )
    nonsense = await client.post(
        f"{base}/appointments/{first}/outcome", data={"csrf": csrf_of(page.text), "value": "maybe"}
    )

    assert corrected.status_code == 303 and await status_of(bot, first) == AppointmentStatus.NO_SHOW
    assert too_early.status_code == 409 and await status_of(bot, later) == AppointmentStatus.BOOKED
    assert nonsense.status_code == 400 and await status_of(bot, first) == AppointmentStatus.NO_SHOW


async def test_outcomes_of_another_advisors_appointment_or_without_the_csrf_token_are_refused(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    ben = await advisor_with_hours(bot, BEN, "Ben Krause")
    anna_appointment, _, _ = await book(bot, AMIRA, "Amira", anna, local(3, 10))
    ben_appointment, _, _ = await book(bot, KARIM, "Karim", ben, local(3, 10))
    bot.clock.current = local(3, 11)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    csrf = csrf_of((await client.get(f"{base}/agenda")).text)

    others = await client.post(
        f"{base}/appointments/{ben_appointment}/outcome", data={"csrf": csrf, "value": "no"}
    )
    unknown = await client.post(f"{base}/appointments/999999/outcome", data={"csrf": csrf, "value": "no"})
    forged = await client.post(f"{base}/appointments/{anna_appointment}/outcome", data={"value": "no"})

    assert (others.status_code, unknown.status_code, forged.status_code) == (403, 403, 403)
    assert "Traceback" not in others.text
    assert await status_of(bot, ben_appointment) == AppointmentStatus.BOOKED
    assert await status_of(bot, anna_appointment) == AppointmentStatus.BOOKED


async def test_admins_and_strangers_do_not_see_an_agenda(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)

    as_admin = await client.get(f"{base}/agenda")
    async with httpx.AsyncClient() as stranger:
        signed_out = await stranger.get(f"{base}/agenda")

    assert as_admin.status_code == 403
    assert signed_out.status_code == 401


async def test_a_cancelled_appointment_is_not_on_the_agenda(bot: BotUnderTest, desk: DeskClient) -> None:
    anna = await advisor_with_hours(bot, ANNA, "Anna Berger")
    appointment, _, number = await book(bot, AMIRA, "Amira", anna, local(3, 10))
    async with bot.sessions() as session, session.begin():
        stored = await session.get(Appointment, appointment)
        assert stored is not None
        stored.status = AppointmentStatus.CANCELLED
    bot.clock.advance(timedelta(minutes=1))
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)

    response = await client.get(f"{base}/agenda", params={"date": "2026-03-03"})

    assert number not in response.text
