"""Reminder rows: what a crash leaves is resent at most once, and a reminder is sent only while its
text is true."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage import reminders
from storage.db import SessionFactory, session_scope
from storage.models import Appointment, Reminder
from storage.reminders import Outcome
from tests.support.case_data import add_appointment, add_case, add_person, local

BERLIN = ZoneInfo("Europe/Berlin")
STARTS = local(2026, 3, 4, 10)  # Wednesday 10:00 in Hemmingen


async def booked_with_reminder(sessions: SessionFactory, kind: str) -> tuple[int, int]:
    """A booked appointment on Wednesday 10:00 with one pending reminder; (appointment, reminder)."""
    async with session_scope(sessions) as session:
        advisor = await add_person(session, 90, staff_name="Anna Berger")
        person = await add_person(session, 91)
        case = await add_case(session, person)
        appointment = await add_appointment(session, case, STARTS, advisor=advisor, status="booked")
        due = STARTS - reminders.BEFORE.get(kind, timedelta())
        reminder = Reminder(
            appointment_id=appointment.id, kind=kind, due_at=due, status="pending", attempts=0
        )
        session.add(reminder)
        await session.flush()
        return appointment.id, reminder.id


async def status_of(sessions: SessionFactory, reminder_id: int) -> str:
    async with sessions() as session:
        return (await session.scalars(select(Reminder.status).where(Reminder.id == reminder_id))).one()


async def claim(sessions: SessionFactory, now: datetime) -> list[int]:
    async with session_scope(sessions) as session:
        return await reminders.claim_due(session, now, 10)


async def attempt(sessions: SessionFactory, reminder_id: int, now: datetime) -> None:
    async with session_scope(sessions) as session:
        await reminders.record_progress(session, [reminder_id], {}, now)


async def test_a_reminder_a_crash_left_in_flight_is_resent_once_then_dropped(
    sessions: SessionFactory,
) -> None:
    _, reminder_id = await booked_with_reminder(sessions, "before_24h")
    claimed_at = STARTS - timedelta(hours=24)
    assert await claim(sessions, claimed_at) == [reminder_id]
    await attempt(sessions, reminder_id, claimed_at)

    async with session_scope(sessions) as session:  # soon after: the claim may still be in flight
        assert await reminders.release_stuck(session, claimed_at + timedelta(minutes=1)) == (0, 0)
    assert await status_of(sessions, reminder_id) == "sending"

    later = claimed_at + reminders.STUCK_AFTER + timedelta(seconds=1)
    async with session_scope(sessions) as session:
        assert await reminders.release_stuck(session, later) == (1, 0)
    assert await claim(sessions, later) == [reminder_id]
    await attempt(sessions, reminder_id, later)

    even_later = later + reminders.STUCK_AFTER + timedelta(seconds=1)
    async with session_scope(sessions) as session:
        assert await reminders.release_stuck(session, even_later) == (0, 1)
    assert await status_of(sessions, reminder_id) == "dropped"
    assert await claim(sessions, even_later) == []


async def test_a_claimed_reminder_that_never_went_out_is_simply_due_again(sessions: SessionFactory) -> None:
    _, reminder_id = await booked_with_reminder(sessions, "before_24h")
    now = STARTS - timedelta(hours=24)
    for _ in range(3):  # crash after crash before it was sent: never counted as in doubt
        assert await claim(sessions, now) == [reminder_id]
        now += reminders.STUCK_AFTER + timedelta(seconds=1)
        async with session_scope(sessions) as session:
            assert await reminders.release_stuck(session, now) == (1, 0)
    assert await status_of(sessions, reminder_id) == "pending"


async def test_a_timeout_counts_as_in_doubt_and_is_resent_once(sessions: SessionFactory) -> None:
    _, reminder_id = await booked_with_reminder(sessions, "before_24h")
    now = STARTS - timedelta(hours=24)
    for expected in ("pending", "dropped"):
        assert await claim(sessions, now) == [reminder_id]
        async with session_scope(sessions) as session:
            await reminders.record_progress(session, [], {reminder_id: Outcome.UNCERTAIN}, now)
        assert await status_of(sessions, reminder_id) == expected


async def test_an_outcome_is_recorded_only_for_a_reminder_still_being_sent(sessions: SessionFactory) -> None:
    _, reminder_id = await booked_with_reminder(sessions, "before_24h")
    now = STARTS - timedelta(hours=24)
    await claim(sessions, now)
    async with session_scope(sessions) as session:
        await reminders.record_progress(session, [], {reminder_id: Outcome.SENT}, now)
        await reminders.record_progress(session, [], {reminder_id: Outcome.FAILED}, now)
    assert await status_of(sessions, reminder_id) == "sent"


@pytest.mark.parametrize(
    ("kind", "now", "true"),
    [
        ("before_24h", STARTS - timedelta(hours=24), True),
        ("before_24h", local(2026, 3, 3, 23, 30), True),  # late, but it is still tomorrow
        ("before_24h", local(2026, 3, 4, 0, 30), False),  # after an outage: the appointment is today
        ("before_24h", STARTS - timedelta(minutes=90), False),  # "tomorrow", 90 minutes before
        ("before_2h", STARTS - timedelta(hours=2), True),
        ("before_2h", STARTS - timedelta(minutes=95), True),
        ("before_2h", STARTS - timedelta(minutes=60), False),  # "in 2 hours" is no longer true
        ("before_2h", STARTS + timedelta(minutes=1), False),
        ("outcome", STARTS + timedelta(hours=3), True),
    ],
)
async def test_a_reminder_is_sent_only_while_its_text_is_true(
    sessions: SessionFactory,
    kind: str,
    now,
    true: bool,  # type: ignore[no-untyped-def]
) -> None:
    _, reminder_id = await booked_with_reminder(sessions, kind)
    async with sessions() as session:
        (due,) = await reminders.load_claimed(session, [reminder_id])
    assert reminders.still_true(due, now, BERLIN) is true


async def test_a_reminder_of_a_cancelled_appointment_is_never_true(sessions: SessionFactory) -> None:
    appointment_id, reminder_id = await booked_with_reminder(sessions, "before_2h")
    async with session_scope(sessions) as session:
        (await session.get(Appointment, appointment_id)).status = "cancelled"
    async with sessions() as session:
        (due,) = await reminders.load_claimed(session, [reminder_id])
    assert not reminders.still_true(due, STARTS - timedelta(hours=2), BERLIN)
    assert (due.appointment_id, due.kind, due.chat, due.blocked) == (appointment_id, "before_2h", 91, False)


async def test_the_outcome_question_is_loaded_for_the_advisor_and_a_reminder_for_the_person(
    sessions: SessionFactory,
) -> None:
    _, question = await booked_with_reminder(sessions, "outcome")
    async with session_scope(sessions) as session:
        reminder = (await session.scalars(select(Reminder).where(Reminder.id == question))).one()
        person_reminder = Reminder(
            appointment_id=reminder.appointment_id,
            kind="before_2h",
            due_at=STARTS,
            status="pending",
            attempts=0,
        )
        session.add(person_reminder)
        await session.flush()
        reminder_id = person_reminder.id
    async with sessions() as session:
        loaded = await reminders.load_claimed(session, [question, reminder_id])
    assert sorted((due.kind, due.chat) for due in loaded) == [("before_2h", 91), ("outcome", 90)]
