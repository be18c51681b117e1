"""Booking rules on SQLite and PostgreSQL: free times, never double-booking, cancelling, moving."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage import advisors, booking, consent, people, reminders, waiting_list
from storage.booking import BookingPolicy, BookingRefused
from storage.db import SessionFactory, session_scope
from storage.models import Appointment, AppointmentSlot, Person, Reminder, Role
from storage.slots import free_slots

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Hemmingen
POLICY = BookingPolicy(zone=BERLIN)
ADVISOR = 500


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def make_person(sessions: SessionFactory, telegram_id: int, agreed: bool = True) -> Person:
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, telegram_id, NOW)
        if agreed:
            for purpose in (consent.Purpose.BOOKING, consent.Purpose.REMINDERS):  # as the bot records them
                await consent.give_consent(session, person.id, purpose, "ar", NOW)
        return person


@pytest.fixture
async def advisor(sessions: SessionFactory) -> Person:
    async with session_scope(sessions) as session:
        anna = await people.add_staff(session, ADVISOR, Role.ADVISOR, "Anna", NOW)
        for weekday in (1, 3):  # Tuesday and Thursday
            await advisors.set_weekly_hours(session, anna.id, weekday, "09:00-12:00, 14:00-16:00")
        (await advisors.profile(session, anna.id)).languages = ["de", "ar"]
        return anna


async def book(
    sessions: SessionFactory, person: Person, advisor: Person, starts_at: datetime, now: datetime = NOW
) -> Appointment:
    async with session_scope(sessions) as session:
        return await booking.book(
            session,
            POLICY,
            now,
            person=person,
            advisor_id=advisor.id,
            starts_at=starts_at,
            topic="housing",
            language="ar",
            interpreter=False,
            first_name="Amira",
        )


async def count(sessions: SessionFactory, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_free_times_respect_hours_notice_window_holidays_and_absences(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira = await make_person(sessions, 1)
    async with session_scope(sessions) as session:
        await advisors.add_absence(
            session, advisor.id, date(2026, 3, 10), date(2026, 3, 12), zone=BERLIN, now=NOW
        )
        slots = await free_slots(session, POLICY, NOW, amira.id, "ar", False)

    days = sorted({slot.starts_at.astimezone(BERLIN).date() for slot in slots})
    assert days[0] == date(2026, 3, 3), "Tuesday is more than 12 hours ahead"
    assert date(2026, 3, 10) not in days and date(2026, 3, 12) not in days, "absent"
    assert days[-1] <= date(2026, 3, 23), "21 days at most"
    tuesday = [
        slot.starts_at.astimezone(BERLIN).strftime("%H:%M")
        for slot in slots
        if slot.starts_at.astimezone(BERLIN).date() == date(2026, 3, 3)
    ]
    assert tuesday == ["09:00", "09:30", "10:00", "10:30", "11:00", "14:00", "14:30", "15:00"], (
        "60-minute first talks"
    )
    assert all(slot.ends_at - slot.starts_at == timedelta(hours=1) for slot in slots)


async def test_good_friday_and_easter_monday_have_no_times_and_summer_time_keeps_local_hours(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira = await make_person(sessions, 1)
    async with session_scope(sessions) as session:
        for weekday in range(5):
            await advisors.set_weekly_hours(session, advisor.id, weekday, "09:00-10:00")
        slots = await free_slots(
            session, POLICY, datetime(2026, 3, 20, 8, 0, tzinfo=UTC), amira.id, "ar", False
        )
    by_day = {slot.starts_at.astimezone(BERLIN).date(): slot.starts_at for slot in slots}
    assert date(2026, 4, 3) not in by_day and date(2026, 4, 6) not in by_day, "Good Friday, Easter Monday"
    assert by_day[date(2026, 3, 27)] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC), "09:00 CET is 08:00 UTC"
    assert by_day[date(2026, 3, 30)] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "09:00 CEST is 07:00 UTC"


async def test_twenty_people_tapping_the_same_slot_get_one_booking(
    sessions: SessionFactory, advisor: Person
) -> None:
    contenders = [await make_person(sessions, 100 + n) for n in range(20)]
    slot = local(3, 10)

    async def attempt(person: Person) -> str:
        try:
            await book(sessions, person, advisor, slot)
        except BookingRefused as refused:
            return refused.reason
        return "booked"

    results = await asyncio.gather(*(attempt(person) for person in contenders))

    assert results.count("booked") == 1
    assert set(results) == {"booked", "taken"}
    assert await count(sessions, Appointment) == 1
    assert await count(sessions, AppointmentSlot) == 2, (
        "a 60-minute first consultation holds two 30-minute units"
    )


async def test_a_refused_booking_leaves_nothing_behind_even_when_the_caller_commits(
    sessions: SessionFactory, advisor: Person
) -> None:
    first, second = await make_person(sessions, 1), await make_person(sessions, 2)
    await book(sessions, first, advisor, local(3, 10))

    async with session_scope(sessions) as session:  # a handler catches the refusal and commits
        with pytest.raises(BookingRefused):
            await booking.book(
                session,
                POLICY,
                NOW,
                person=second,
                advisor_id=advisor.id,
                starts_at=local(3, 10),
                topic="work",
                language="de",
                interpreter=False,
                first_name="Jana",
            )

    assert await count(sessions, Appointment) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(booking.Case)) == 1, "no empty case"


async def test_overlapping_lengths_cannot_share_an_advisor(sessions: SessionFactory, advisor: Person) -> None:
    first, second = await make_person(sessions, 1), await make_person(sessions, 2)
    await book(sessions, first, advisor, local(3, 10))  # 10:00-11:00

    with pytest.raises(BookingRefused) as refused:
        await book(sessions, second, advisor, local(3, 10, 30))  # would be 10:30-11:30
    assert refused.value.reason == "taken"
    await book(sessions, second, advisor, local(3, 11))


async def test_a_double_tap_on_confirm_books_once(sessions: SessionFactory, advisor: Person) -> None:
    amira = await make_person(sessions, 1)
    first = await book(sessions, amira, advisor, local(3, 9))
    with pytest.raises(booking.AlreadyBooked) as again:
        await book(sessions, amira, advisor, local(3, 9))
    assert again.value.appointment_id == first.id
    assert await count(sessions, Appointment) == 1


@pytest.mark.parametrize(
    ("starts_at", "reason"),
    [
        (local(2, 14), "too_soon"),
        (local(3, 8), "outside_hours"),
        (local(3, 9, 15), "outside_hours"),
        (local(4, 10), "outside_hours"),
        (local(26, 10), "too_far"),
        (local(3, 11, 30), "outside_hours"),
    ],
)
async def test_forged_times_are_refused(
    sessions: SessionFactory, advisor: Person, starts_at: datetime, reason: str
) -> None:
    amira = await make_person(sessions, 1)
    with pytest.raises(BookingRefused) as refused:
        await book(sessions, amira, advisor, starts_at)
    assert refused.value.reason == reason
    assert await count(sessions, Appointment) == 0


async def test_no_booking_without_consent_and_none_over_the_limit(
    sessions: SessionFactory, advisor: Person
) -> None:
    silent = await make_person(sessions, 1, agreed=False)
    with pytest.raises(consent.ConsentMissing):
        await book(sessions, silent, advisor, local(3, 9))

    amira = await make_person(sessions, 2)
    await book(sessions, amira, advisor, local(3, 9))
    await book(sessions, amira, advisor, local(5, 9))
    with pytest.raises(BookingRefused) as refused:
        await book(sessions, amira, advisor, local(10, 9))
    assert refused.value.reason == "limit"
    async with sessions() as session:
        kinds = [a.kind for a in (await session.scalars(select(Appointment).order_by(Appointment.id))).all()]
    assert kinds == ["first", "follow_up"], "whoever already has a booking gets a follow-up next"


async def test_cancelling_frees_the_time_and_drops_reminders_in_one_go(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira, other = await make_person(sessions, 1), await make_person(sessions, 2)
    appointment = await book(sessions, amira, advisor, local(3, 9))

    async with session_scope(sessions) as session:
        with pytest.raises(BookingRefused):
            await booking.cancel_by_person(session, POLICY, NOW, appointment.id, other.id, "ill")
        await booking.cancel_by_person(session, POLICY, NOW, appointment.id, amira.id, "ill")

    async with sessions() as session:
        statuses = sorted((await session.scalars(select(Reminder.status))).all())
        cancelled = await session.get(Appointment, appointment.id)
    assert statuses == ["dropped", "dropped", "dropped"]
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        "person",
        "ill",
    )
    await book(sessions, other, advisor, local(3, 9))


async def test_no_cancelling_or_moving_after_the_cut_off(sessions: SessionFactory, advisor: Person) -> None:
    amira = await make_person(sessions, 1)
    appointment = await book(sessions, amira, advisor, local(3, 9))
    late = local(3, 7, 30)
    async with session_scope(sessions) as session:
        for change in (
            booking.cancel_by_person(session, POLICY, late, appointment.id, amira.id, "none"),
            booking.move(session, POLICY, late, appointment.id, amira.id, advisor.id, local(5, 9)),
        ):
            with pytest.raises(BookingRefused) as refused:
                await change
            assert refused.value.reason == "too_late"


async def test_moving_holds_the_new_time_before_releasing_the_old(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira, other = await make_person(sessions, 1), await make_person(sessions, 2)
    appointment = await book(sessions, amira, advisor, local(3, 9))
    await book(sessions, other, advisor, local(3, 11))

    async with session_scope(sessions) as session:
        with pytest.raises(BookingRefused) as refused:
            await booking.move(session, POLICY, NOW, appointment.id, amira.id, advisor.id, local(3, 10, 30))
        assert refused.value.reason == "taken"
    async with session_scope(sessions) as session:
        moved = await booking.move(
            session, POLICY, NOW, appointment.id, amira.id, advisor.id, local(3, 9, 30)
        )
        assert moved.starts_at == local(3, 9, 30)
    async with sessions() as session:
        units = sorted(
            (
                await session.scalars(
                    select(AppointmentSlot.starts_at).where(AppointmentSlot.appointment_id == appointment.id)
                )
            ).all()
        )
        due = {
            r.kind: r.due_at
            for r in await session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id))
        }
    assert units == [local(3, 9, 30), local(3, 10)]
    assert due == {"before_24h": local(2, 9, 30), "before_2h": local(3, 7, 30), "outcome": local(3, 10, 30)}


async def test_an_advisor_acts_only_on_their_own_appointments(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira = await make_person(sessions, 1)
    appointment = await book(sessions, amira, advisor, local(3, 9))
    async with session_scope(sessions) as session:
        bernd = await people.add_staff(session, 501, Role.ADVISOR, "Bernd", NOW)
    async with session_scope(sessions) as session:
        with pytest.raises(BookingRefused):
            await booking.cancel_by_advisor(session, NOW, appointment.id, bernd.id, "emergency")
        with pytest.raises(BookingRefused):
            await booking.record_outcome(session, local(3, 10), appointment.id, bernd.id, True)
    async with session_scope(sessions) as session:
        with pytest.raises(BookingRefused) as early:
            await booking.record_outcome(session, NOW, appointment.id, advisor.id, True)
        assert early.value.reason == "not_booked", "no outcome before the appointment began"
        done = await booking.record_outcome(session, local(3, 10), appointment.id, advisor.id, False)
        assert done.status == "no_show"


async def test_due_reminders_are_claimed_once_even_by_competing_dispatchers(
    sessions: SessionFactory, advisor: Person
) -> None:
    for n in range(6):
        person = await make_person(sessions, 10 + n)
        await book(sessions, person, advisor, local(3 + 2 * (n % 2), 9 + n // 2))
    later = local(3, 8)

    async def claim() -> list[int]:
        async with session_scope(sessions) as session:
            return await reminders.claim_due(session, later, limit=50)

    batches = await asyncio.gather(*(claim() for _ in range(5)))

    claimed = [reminder_id for batch in batches for reminder_id in batch]
    # Due by Tuesday 08:00: the 24-hour reminders of Tuesday 10:00 and 11:00 (the one for 09:00 was
    # already past when booked), and the 2-hour reminders of 09:00 and of 10:00 (due exactly now).
    assert len(claimed) == len(set(claimed)) == 4


async def test_waiting_list_offers_a_freed_time_first_come_first_served(
    sessions: SessionFactory, advisor: Person
) -> None:
    short = BookingPolicy(zone=BERLIN, window=timedelta(days=3))  # only Tuesday 3 March is bookable
    async with session_scope(sessions) as session:
        await advisors.set_weekly_hours(session, advisor.id, 1, "09:00-10:00")
        await advisors.set_weekly_hours(session, advisor.id, 3, "")
    holder = await make_person(sessions, 1)
    first, second = await make_person(sessions, 2), await make_person(sessions, 3)
    async with session_scope(sessions) as session:
        appointment = await booking.book(
            session,
            short,
            NOW,
            person=holder,
            advisor_id=advisor.id,
            starts_at=local(3, 9),
            topic="work",
            language="ar",
            interpreter=False,
        )
    async with session_scope(sessions) as session:
        assert await free_slots(session, short, NOW, first.id, "ar", False) == []
        await waiting_list.join_waiting_list(session, first.id, "work", "ar", False, NOW)
        await waiting_list.join_waiting_list(
            session, second.id, "work", "ar", False, NOW + timedelta(minutes=1)
        )
        await waiting_list.join_waiting_list(
            session, first.id, "work", "ar", False, NOW + timedelta(minutes=2)
        )

    async with session_scope(sessions) as session:
        await booking.cancel_by_person(session, short, NOW, appointment.id, holder.id, "solved")
        offered = await waiting_list.offer_freed_time(session, short, NOW)
    assert [(entry.person_id, slot.starts_at) for entry, slot in offered] == [(first.id, local(3, 9))]

    async with session_scope(sessions) as session:
        assert await waiting_list.offer_freed_time(session, short, NOW + timedelta(hours=1)) == [], (
            "still reserved"
        )
    async with session_scope(sessions) as session:
        later = await waiting_list.offer_freed_time(session, short, NOW + timedelta(hours=4))
    assert [(entry.person_id, slot.starts_at) for entry, slot in later] == [(second.id, local(3, 9))]


async def test_without_the_reminders_consent_only_the_advisor_question_is_scheduled(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira = await make_person(sessions, 1)
    async with session_scope(sessions) as session:
        await consent.withdraw_consent(session, amira.id, consent.Purpose.REMINDERS, NOW)
    appointment = await book(sessions, amira, advisor, local(3, 10))
    async with sessions() as session:
        statuses = {
            r.kind: r.status
            for r in await session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id))
        }
    assert statuses == {"before_24h": "dropped", "before_2h": "dropped", "outcome": "pending"}


async def test_hours_until_midnight_are_bookable(sessions: SessionFactory, advisor: Person) -> None:
    amira = await make_person(sessions, 1)
    async with session_scope(sessions) as session:
        await advisors.set_weekly_hours(session, advisor.id, 2, "22:00-24:00")  # Wednesday evening
        slots = await free_slots(session, POLICY, NOW, amira.id, "ar", False, day=date(2026, 3, 4))
    assert [slot.starts_at.astimezone(BERLIN).strftime("%H:%M") for slot in slots] == [
        "22:00",
        "22:30",
        "23:00",
    ]


async def test_when_the_advisor_cancels_the_time_stays_blocked(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira, other = await make_person(sessions, 1), await make_person(sessions, 2)
    appointment = await book(sessions, amira, advisor, local(3, 9))
    async with session_scope(sessions) as session:
        await booking.cancel_by_advisor(session, NOW, appointment.id, advisor.id, "advisor_ill")
    with pytest.raises(BookingRefused) as refused:
        await book(sessions, other, advisor, local(3, 9))
    assert refused.value.reason == "taken", "an ill advisor's hour is not offered to anyone else"


async def test_a_booking_about_an_offer_that_is_gone_is_booked_without_it(
    sessions: SessionFactory, advisor: Person
) -> None:
    amira = await make_person(sessions, 1)
    async with session_scope(sessions) as session:
        appointment = await booking.book(
            session,
            POLICY,
            NOW,
            person=amira,
            advisor_id=advisor.id,
            starts_at=local(3, 9),
            topic="work",
            language="ar",
            interpreter=False,
            offer_id=987654,
        )
    assert appointment.offer_id is None
