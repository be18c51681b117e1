"""Reminders as rows: scheduled with their appointment, claimed atomically when due, sent once.

One repeating job calls :func:`claim_due`. Claiming moves rows from ``pending`` to ``sending`` in
one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several instances never take the same
row. After sending, a row is ``sent``; a reminder whose appointment has begun or was cancelled is
``dropped``; a person who blocked the bot makes it ``failed``. A row left in ``sending`` by a crash
is released again after a while: a reminder may then, in that rare case, arrive twice rather than
never.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.consent import Purpose, valid_consent
from storage.models import Appointment, AppointmentStatus, Reminder, ReminderStatus

BEFORE = {"before_24h": timedelta(hours=24), "before_2h": timedelta(hours=2)}
OUTCOME = "outcome"
MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=5)


def _due_times(appointment: Appointment) -> dict[str, datetime]:
    times = {kind: appointment.starts_at - offset for kind, offset in BEFORE.items()}
    times[OUTCOME] = appointment.ends_at
    return times


async def schedule_for(session: AsyncSession, appointment: Appointment, now: datetime) -> None:
    """Create or re-time the appointment's reminders (after booking or moving it). Reminders to the
    person need their reminders consent; the advisor's outcome question does not."""
    wanted = (
        appointment.person_id is not None
        and await valid_consent(session, appointment.person_id, Purpose.REMINDERS) is not None
    )
    existing = {
        reminder.kind: reminder
        for reminder in await session.scalars(
            select(Reminder).where(Reminder.appointment_id == appointment.id)
        )
    }
    for kind, due in _due_times(appointment).items():
        if kind == OUTCOME:
            status = ReminderStatus.PENDING
        else:
            status = ReminderStatus.PENDING if due > now and wanted else ReminderStatus.DROPPED
        reminder = existing.get(kind)
        if reminder is None:
            session.add(
                Reminder(appointment_id=appointment.id, kind=kind, due_at=due, status=status, attempts=0)
            )
        else:
            reminder.due_at, reminder.status, reminder.attempts = due, status, 0
            reminder.claimed_at = reminder.sent_at = None


async def drop_for(session: AsyncSession, appointment_id: int) -> None:
    """Nothing more is sent for a cancelled appointment."""
    await session.execute(
        update(Reminder)
        .where(Reminder.appointment_id == appointment_id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.DROPPED)
    )


async def claim_due(session: AsyncSession, now: datetime, limit: int = 100) -> list[int]:
    """Take up to ``limit`` due reminders for sending; nobody else can take them afterwards.

    One UPDATE … RETURNING: on PostgreSQL the inner SELECT skips rows another instance is claiming
    (FOR UPDATE SKIP LOCKED); SQLite runs one writer at a time anyway."""
    due = (
        select(Reminder.id)
        .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = await session.execute(
        update(Reminder)
        .where(Reminder.id.in_(due.scalar_subquery()))
        .values(status=ReminderStatus.SENDING, claimed_at=now, attempts=Reminder.attempts + 1)
        .returning(Reminder.id),
        execution_options={"synchronize_session": False},
    )
    return sorted(row[0] for row in result.all())


async def release_stuck(session: AsyncSession, now: datetime) -> int:
    """Give reminders back that a crashed instance claimed but never finished."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.status == ReminderStatus.SENDING, Reminder.claimed_at < now - STUCK_AFTER)
        .values(status=ReminderStatus.PENDING)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class DueReminder:
    """A claimed reminder with what is needed to decide whether and what to send."""

    reminder: Reminder
    appointment: Appointment


async def load_claimed(session: AsyncSession, ids: Sequence[int]) -> list[DueReminder]:
    """The claimed reminders with their appointments, ready to send."""
    rows = await session.execute(
        select(Reminder, Appointment)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(Reminder.id.in_(ids))
        .order_by(Reminder.due_at)
    )
    return [DueReminder(reminder, appointment) for reminder, appointment in rows.all()]


def still_worth_sending(due: DueReminder, now: datetime) -> bool:
    """A reminder for a cancelled or already begun appointment is dropped, never sent late."""
    if due.reminder.kind == OUTCOME:
        return due.appointment.status == AppointmentStatus.BOOKED
    return due.appointment.status == AppointmentStatus.BOOKED and due.appointment.starts_at > now


async def finish(session: AsyncSession, reminder_id: int, status: ReminderStatus, now: datetime) -> None:
    """Record how a claimed reminder ended (sent, dropped or failed)."""
    values: dict[str, object] = {"status": status}
    if status == ReminderStatus.SENT:
        values["sent_at"] = now
    await session.execute(update(Reminder).where(Reminder.id == reminder_id).values(**values))


async def retry_later(session: AsyncSession, reminder_id: int) -> None:
    """A passing failure (network, 429): try again on the next round, a limited number of times."""
    reminder = await session.get(Reminder, reminder_id)
    if reminder is not None:
        reminder.status = (
            ReminderStatus.FAILED if reminder.attempts >= MAX_ATTEMPTS else ReminderStatus.PENDING
        )
