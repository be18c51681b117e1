"""Set-up shortcuts for desk tests that need appointments: advisors with hours, and people who
agreed to the booking data and booked (through ``storage.booking``, as the bot would)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from storage import advisors, booking, consent, people
from storage.db import session_scope
from storage.models import Role
from tests.support.harness import BotUnderTest

BERLIN = ZoneInfo("Europe/Berlin")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in March 2026, Berlin time (the harness clock starts on Monday 2 March)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def advisor_with_hours(bot: BotUnderTest, telegram_id: int, name: str) -> int:
    """An advisor with hours on Tuesdays and Thursdays, 09:00-12:00; returns their person id."""
    await bot.make_staff(telegram_id, Role.ADVISOR, name)
    async with session_scope(bot.sessions) as session:
        advisor = await people.person_by_telegram_id(session, telegram_id)
        assert advisor is not None
        for weekday in (1, 3):
            await advisors.set_weekly_hours(session, advisor.id, weekday, "09:00-12:00")
        return advisor.id


async def book(
    bot: BotUnderTest,
    telegram_id: int,
    first_name: str,
    advisor_id: int,
    starts_at: datetime,
    *,
    topic: str = "housing",
    language: str | None = "ar",
    interpreter: bool = False,
) -> tuple[int, int, str]:
    """The person agrees and books; returns the appointment id, the case id and the case number."""
    async with session_scope(bot.sessions) as session:
        person = await people.ensure_person(session, telegram_id, bot.clock.current)
        await consent.give_consent(session, person.id, consent.Purpose.BOOKING, "ar", bot.clock.current)
        appointment = await booking.book(
            session,
            bot.settings.booking_policy(),
            bot.clock.current,
            person=person,
            advisor_id=advisor_id,
            starts_at=starts_at,
            topic=topic,
            language=language,
            interpreter=interpreter,
            first_name=first_name,
        )
        case = await booking.case_for(session, person.id, None, bot.clock.current)
        return appointment.id, case.id, case.number
