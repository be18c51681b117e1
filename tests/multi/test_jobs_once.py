"""Each occurrence of a scheduled job runs once, however many instances' JobQueues fire it, and an
occurrence held by an instance that died is taken over when its claim lapses."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.once import CLAIM_LEASE
from handlers import advisor
from storage import advisors, booking, consent, jobs, people
from storage.db import session_scope
from storage.models import Role
from tests.support.harness import BotUnderTest, SimulatedPerson

BERLIN = ZoneInfo("Europe/Berlin")
ANNA, AMIRA = 8100, 8101


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
async def anna_has_appointments(bot: BotUnderTest) -> SimulatedPerson:
    """Anna, an advisor, with one appointment on Tuesday 3 and one on Wednesday 4 March."""
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    anna = bot.person(ANNA, "Anna", "de")
    await anna.send("/start")
    await bot.person(AMIRA, "Amira", "ar").send("/start")
    async with session_scope(bot.sessions) as session:
        advisor_person = await people.person_by_telegram_id(session, ANNA)
        amira = await people.person_by_telegram_id(session, AMIRA)
        assert advisor_person is not None and amira is not None
        for weekday in (1, 2):
            await advisors.set_weekly_hours(session, advisor_person.id, weekday, "09:00-12:00")
        await consent.give_consent(session, amira.id, consent.Purpose.BOOKING, "ar", bot.clock.current)
        for day in (3, 4):
            await booking.book(
                session,
                bot.settings.booking_policy(),
                bot.clock.current,
                person=amira,
                advisor_id=advisor_person.id,
                starts_at=local(day, 9),
                topic="housing",
                language="ar",
                interpreter=False,
                first_name="Amira",
            )
    return anna


def digests(anna: SimulatedPerson) -> int:
    return sum(1 for message in anna.bot_messages if "☀" in message.text)


async def test_the_morning_digest_fired_by_several_instances_is_sent_once_a_day(
    bot: BotUnderTest, anna_has_appointments: SimulatedPerson
) -> None:
    bot.clock.current = local(3, 7, 30)
    for _instance in range(3):
        await bot.run_job(advisor.DIGEST_JOB)
    assert digests(anna_has_appointments) == 1

    bot.clock.current = local(
        4,
        7,
        30,
    )
    await bot.run_job(advisor.DIGEST_JOB)
    await bot.run_job(advisor.DIGEST_JOB)
    assert digests(anna_has_appointments) == 2


async def test_a_digest_held_by_an_instance_that_died_is_taken_over_when_its_claim_lapses(
    bot: BotUnderTest, anna_has_appointments: SimulatedPerson
) -> None:
    bot.clock.current = local(3, 7, 30)
    async with session_scope(bot.sessions) as session:
        claim = await jobs.claim_run(
            session, advisor.DIGEST_JOB, "2026-03-03", "instance-that-dies", bot.clock.current, CLAIM_LEASE
        )
    assert claim.outcome is jobs.Outcome.RUN

    await bot.run_job(advisor.DIGEST_JOB)
    assert digests(anna_has_appointments) == 0, "another instance holds it"

    bot.clock.advance(CLAIM_LEASE)
    await bot.run_job(f"{advisor.DIGEST_JOB}-takeover")
    assert digests(anna_has_appointments) == 1
    await bot.run_job(advisor.DIGEST_JOB)
    assert digests(anna_has_appointments) == 1
