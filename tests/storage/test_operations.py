"""The storage side of operations: the case-key canary, waiting notifications, unreachable staff and
the reminder figures the metrics show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import health, key_rotation, outbox, people
from storage.crypto import CaseCipher, new_key
from storage.db import SessionFactory, session_scope
from storage.models import Reminder, ReminderStatus, Role
from tests.support.case_data import add_appointment, add_case, add_person

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_the_canary_tells_a_fitting_key_from_a_wrong_one_and_follows_a_rotation(
    sessions: SessionFactory,
) -> None:
    old, new, wrong = new_key(), new_key(), new_key()
    async with session_scope(sessions) as session:
        assert await health.case_key_fits(session, CaseCipher([old]), NOW), "the first check writes it"
    async with session_scope(sessions) as session:
        assert not await health.case_key_fits(session, CaseCipher([wrong]), NOW)
        assert await health.case_key_fits(session, CaseCipher([old]), NOW)
    async with session_scope(sessions) as session:
        await key_rotation.rotate_case_texts(session, CaseCipher([new, old]))
    async with session_scope(sessions) as session:
        assert await health.case_key_fits(session, CaseCipher([new]), NOW), "the old key may go now"


async def test_without_a_canary_a_wrong_key_is_caught_on_the_stored_texts(sessions: SessionFactory) -> None:
    key = new_key()
    async with session_scope(sessions) as session:
        case = await add_case(session, await add_person(session, 100))
        case.extension_reason = CaseCipher([key]).encrypt("zieht um")
    async with session_scope(sessions) as session:
        assert not await health.case_key_fits(session, CaseCipher([new_key()]), NOW)
    async with session_scope(sessions) as session:
        assert await health.case_key_fits(session, CaseCipher([key]), NOW)


async def test_waiting_notifications_are_listed_per_staff_member_and_forgotten_once_delivered(
    sessions: SessionFactory,
) -> None:
    async with session_scope(sessions) as session:
        anna = await people.add_staff(session, 200, Role.ADVISOR, "Anna", NOW)
        await outbox.hold(session, anna.id, "first", {"inline_keyboard": []}, NOW)
        await outbox.hold(session, anna.id, "second", None, NOW + timedelta(minutes=5))
    async with session_scope(sessions) as session:
        (waiting,) = await outbox.undelivered(session)
        assert (waiting.staff_name, waiting.count, waiting.oldest) == ("Anna", 2, NOW)
        notes = await outbox.waiting_for(session, 200)
        assert [note.text for note in notes] == ["first", "second"]
        await outbox.delivered(session, notes[0].id)
    async with session_scope(sessions) as session:
        assert [note.text for note in await outbox.waiting_for(session, 200)] == ["second"]
        assert [person.telegram_id for person in await health.unreachable_staff(session)] == [200]
        await outbox.started(session, 200)  # Telegram accepted a message for her after all
    async with session_scope(sessions) as session:
        assert await health.unreachable_staff(session) == []


async def test_reminder_figures_count_by_status_and_measure_the_lag(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        advisor = await add_person(session, 300, "Anna")
        case = await add_case(session, await add_person(session, 301))
        appointment = await add_appointment(session, case, NOW + timedelta(days=1), advisor=advisor)
        for kind, due, status in (
            ("before_24h", NOW - timedelta(minutes=3), ReminderStatus.PENDING),
            ("before_2h", NOW + timedelta(hours=1), ReminderStatus.PENDING),
            ("outcome", NOW - timedelta(days=1), ReminderStatus.SENT),
        ):
            session.add(Reminder(appointment_id=appointment.id, kind=kind, due_at=due, status=status))
    async with session_scope(sessions) as session:
        figures = await health.reminder_figures(session, NOW)
    assert figures.by_status == {"pending": 2, "sent": 1}
    assert (figures.due, figures.lag_seconds) == (1, 180.0)
