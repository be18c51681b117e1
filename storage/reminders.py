"""Reminders as rows: scheduled with their appointment, claimed atomically when due, sent once.

One repeating job calls :func:`claim_due`. Claiming moves rows from ``pending`` to ``sending`` in
one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and stamps the attempt (``claimed_at``),
so several instances never take the same row. The dispatcher records each outcome right after the
send (:func:`record_progress`): ``sent``; ``dropped`` when its text is no longer true (the
appointment was cancelled, has begun, or "tomorrow" has become "today"); ``failed`` when the person
blocked the bot.

Crashes. Before its message goes out, a reminder is stamped ``attempted_at``, committed first
(:func:`record_progress`): with the rate limiter, when the limiter lets it through; without it, in
a group, ahead of its send (a stamped reminder may wait for a free sender or its chat's turn; the
dispatcher keeps a few windows stamped ahead so that its senders never wait for a commit). Its
outcome is committed right after.
A row still ``sending`` :data:`STUCK_AFTER` after its claim belongs to a process that died. If it
was never attempted, it simply becomes due again. If it was attempted, it may or may not have
reached Telegram: the first time it is sent again; if it was in doubt once before, it is dropped. A
timeout while sending counts the same way. So a reminder arrives at most twice, and twice only when
a crash or a timeout hit it while in flight. A stamped reminder that was still waiting for its send
is in doubt after a crash all the same: it is sent then, and dropped only if a second crash or a
timeout finds it in doubt again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Update,
    any_,
    bindparam,
    case,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from storage.consent import Purpose, valid_consent
from storage.dialects import POSTGRESQL, Target, dialect_name, ids_value, postgresql_array
from storage.driver_calls import execute
from storage.models import (
    AdvisorProfile,
    Appointment,
    AppointmentStatus,
    Person,
    Reminder,
    ReminderStatus,
)
from storage.models.base import UTCDateTime
from storage.query_plans import not_by_index

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
            reminder.claimed_at = reminder.sent_at = reminder.attempted_at = reminder.uncertain_at = None


async def drop_for(session: AsyncSession, appointment_id: int) -> None:
    """Nothing more is sent for a cancelled appointment."""
    await session.execute(
        update(Reminder)
        .where(
            Reminder.appointment_id == appointment_id,
            # By the appointment's key, not from every pending reminder (storage.query_plans).
            not_by_index(Reminder.status) == ReminderStatus.PENDING,
        )
        .values(status=ReminderStatus.DROPPED)
    )


async def claim_due(target: Target, now: datetime, limit: int = 100) -> list[int]:
    """Take up to ``limit`` due reminders for sending; nobody else can take them afterwards.

    One UPDATE … RETURNING, in the session's unit of work or alone through the engine's driver
    (atomic on its own; on SQLite the caller holds the write turn): on PostgreSQL the inner SELECT
    skips rows another instance is claiming (FOR UPDATE SKIP LOCKED); SQLite runs one writer at a
    time anyway."""
    claim = _CLAIM_SKIPPING if dialect_name(target) == POSTGRESQL else _CLAIM
    return sorted(row[0] for row in await execute(target, claim, {"now": now, "limit": limit}))


async def release_stuck(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Rows a crashed process left in ``sending``: due again if never attempted; resent once if
    attempted; dropped if attempted and in doubt once before. Returns (due again, dropped)."""
    stuck = (Reminder.status == ReminderStatus.SENDING, Reminder.claimed_at < now - STUCK_AFTER)
    attempted = Reminder.attempted_at.is_not(None)
    dropped = await session.execute(
        update(Reminder)
        .where(*stuck, attempted, Reminder.uncertain_at.is_not(None))
        .values(status=ReminderStatus.DROPPED)
    )
    in_doubt = await session.execute(
        update(Reminder).where(*stuck, attempted).values(status=ReminderStatus.PENDING, uncertain_at=now)
    )
    untouched = await session.execute(update(Reminder).where(*stuck).values(status=ReminderStatus.PENDING))
    return int(in_doubt.rowcount or 0) + int(untouched.rowcount or 0), int(dropped.rowcount or 0)


_REMINDERS = Reminder.__table__
_APPOINTMENTS = Appointment.__table__
_PEOPLE = Person.__table__
_PROFILES = AdvisorProfile.__table__
# Core statements built once (those that differ by dialect on first use, for the database in use:
# storage.dialects): the dispatcher runs them for every batch, and building an ORM statement with an
# IN list of fifty ids costs more than running it. The ids go as one value, so each statement has
# one text, compiled once and prepared once: an array on PostgreSQL (``= ANY``), a JSON array on
# SQLite (``IN (SELECT value FROM json_each(…))``).
_NOW = bindparam("now", type_=UTCDateTime())


def _id_list(dialect: str) -> ColumnElement[bool]:
    """The batch's reminders by id: the ids travel as one value (``storage.dialects.ids_value``)."""
    if dialect == POSTGRESQL:
        return _REMINDERS.c.id == any_(bindparam("ids", type_=postgresql_array(Integer)))
    return _REMINDERS.c.id.in_(
        select(func.json_each(bindparam("ids", type_=String)).table_valued("value").c.value)
    )


_DUE = (
    select(_REMINDERS.c.id)
    .where(_REMINDERS.c.status == ReminderStatus.PENDING, _REMINDERS.c.due_at <= _NOW)
    .order_by(_REMINDERS.c.due_at)
    .limit(bindparam("limit"))
)


def _claiming(due: Select[tuple[int]]) -> ReturningUpdate[tuple[int]]:
    return (
        update(_REMINDERS)
        .where(_REMINDERS.c.id.in_(due.scalar_subquery()))
        .values(
            status=ReminderStatus.SENDING,
            claimed_at=_NOW,
            attempted_at=None,
            attempts=_REMINDERS.c.attempts + 1,
        )
        .returning(_REMINDERS.c.id)
    )


_CLAIM = _claiming(_DUE)
_CLAIM_SKIPPING = _claiming(_DUE.with_for_update(skip_locked=True))


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A claimed reminder with what its message needs: the appointment's time and status, and
    its reader (the person; the advisor for the outcome question)."""

    id: int
    kind: str
    due_at: datetime
    appointment_id: int
    status: str  # the appointment's
    starts_at: datetime
    ends_at: datetime
    chat: int | None  # the reader's Telegram id; None when there is no reader any more
    language: str | None
    blocked: bool  # the reader blocked the bot
    place: str | None  # the advisor's own place, if they set one


_PERSON = _PEOPLE.alias("person")
_ADVISOR = _PEOPLE.alias("advisor")
_TO_ADVISOR = _REMINDERS.c.kind == OUTCOME


@cache
def _load_claimed(dialect: str) -> Select[Any]:
    """The load of a claimed batch on ``dialect`` (built once per dialect, so compiled once)."""
    return (
        select(
            _REMINDERS.c.id,
            _REMINDERS.c.kind,
            _REMINDERS.c.due_at,
            _APPOINTMENTS.c.id,
            _APPOINTMENTS.c.status,
            _APPOINTMENTS.c.starts_at,
            _APPOINTMENTS.c.ends_at,
            case((_TO_ADVISOR, _ADVISOR.c.telegram_id), else_=_PERSON.c.telegram_id),
            case((_TO_ADVISOR, _ADVISOR.c.language), else_=_PERSON.c.language),
            case((_TO_ADVISOR, _ADVISOR.c.blocked_at), else_=_PERSON.c.blocked_at),
            _PROFILES.c.place,
        )
        .join(_APPOINTMENTS, _APPOINTMENTS.c.id == _REMINDERS.c.appointment_id)
        .outerjoin(_PERSON, _PERSON.c.id == _APPOINTMENTS.c.person_id)
        .outerjoin(_ADVISOR, _ADVISOR.c.id == _APPOINTMENTS.c.advisor_id)
        .outerjoin(_PROFILES, _PROFILES.c.person_id == _APPOINTMENTS.c.advisor_id)
        .where(_id_list(dialect))
        .order_by(_REMINDERS.c.due_at, _REMINDERS.c.id)
    )


async def load_claimed(target: Target, ids: Sequence[int]) -> list[DueReminder]:
    """The claimed reminders with their appointment's time and status, reader and place, in one
    query for the whole batch (in the session, or alone through the engine's driver), oldest due
    first (a reminder whose appointment is gone is left out)."""
    dialect = dialect_name(target)
    rows = await execute(target, _load_claimed(dialect), {"ids": ids_value(dialect, ids)})
    return [DueReminder(*head, blocked is not None, place) for *head, blocked, place in rows]


TWO_HOURS_LATE_BY_AT_MOST = timedelta(minutes=30)


def still_true(due: DueReminder, now: datetime, zone: ZoneInfo) -> bool:
    """Whether the reminder's text is still true now, so it may be sent; otherwise it is dropped,
    never sent late. "Tomorrow" (24 hours before) holds while the appointment is on the next local
    day and the 2-hour reminder is not due yet; "in 2 hours" holds for half an hour after it is due.
    A reminder for a cancelled appointment is never true."""
    if due.status != AppointmentStatus.BOOKED:
        return False
    if due.kind == OUTCOME:
        return True
    ahead = due.starts_at - now
    if due.kind == "before_24h":
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        return due.starts_at.astimezone(zone).date() == tomorrow and ahead > BEFORE["before_2h"]
    return BEFORE["before_2h"] - TWO_HOURS_LATE_BY_AT_MOST <= ahead


class Outcome(StrEnum):
    """How sending a claimed reminder ended."""

    SENT = "sent"
    DROPPED = "dropped"  # its text is no longer true, or its appointment is gone
    FAILED = "failed"  # the person blocked the bot, or Telegram refused it
    RETRY = "retry"  # Telegram asked to wait: certainly not delivered, tried again later
    UNCERTAIN = "uncertain"  # a timeout or network failure: maybe delivered, resent at most once


ATTEMPTED = "attempted"  # the progress of a reminder stamped as going out


def _progress_write(ids: ColumnElement[int], step: ColumnElement[str]) -> Update:
    """One UPDATE for a batch of progress: each reminder (``ids``) is stamped as going out or gets
    its outcome (``step``, beside its id), if it is still being sent. The new values are computed
    from the row before the update, as SQL does: a second doubt drops the reminder."""
    reminder = _REMINDERS.c
    return (
        update(_REMINDERS)
        # Each of the batch's reminders by its id, not the batch read again for every reminder being
        # sent: 0.03 ms instead of 1.5 ms a write on SQLite with 200 in flight (storage.query_plans).
        .where(reminder.id == ids, not_by_index(reminder.status) == ReminderStatus.SENDING)
        .values(
            attempted_at=case((step == ATTEMPTED, _NOW), else_=reminder.attempted_at),
            sent_at=case((step == Outcome.SENT.value, _NOW), else_=reminder.sent_at),
            uncertain_at=case((step == Outcome.UNCERTAIN.value, _NOW), else_=reminder.uncertain_at),
            status=case(
                (step == ATTEMPTED, reminder.status),
                (step == Outcome.SENT.value, ReminderStatus.SENT.value),
                (
                    step == Outcome.RETRY.value,
                    case(
                        (reminder.attempts >= MAX_ATTEMPTS, ReminderStatus.FAILED.value),
                        else_=ReminderStatus.PENDING.value,
                    ),
                ),
                (
                    step == Outcome.UNCERTAIN.value,
                    case(
                        (reminder.uncertain_at.is_not(None), ReminderStatus.DROPPED.value),
                        else_=ReminderStatus.PENDING.value,
                    ),
                ),
                (step == Outcome.DROPPED.value, ReminderStatus.DROPPED.value),
                else_=ReminderStatus.FAILED.value,
            ),
        )
    )


# The batch as a table: on PostgreSQL two arrays unnested side by side, on SQLite one JSON object
# from id to step (its keys are text).
@cache
def _progress_write_on(dialect: str) -> Update:
    """The progress write on ``dialect`` (built once per dialect, so compiled once)."""
    if dialect == POSTGRESQL:
        batch = (
            func.unnest(
                bindparam("ids", type_=postgresql_array(Integer)),
                bindparam("steps", type_=postgresql_array(String)),
            )
            .table_valued("id", "step")
            .render_derived()
        )
        return _progress_write(batch.c.id, batch.c.step)
    steps = func.json_each(bindparam("steps", type_=String)).table_valued("key", "value")
    return _progress_write(cast(steps.c.key, Integer), steps.c.value)


def _progress_values(
    dialect: str, attempted: Sequence[int], outcomes: Mapping[int, Outcome], now: datetime
) -> dict[str, Any]:
    steps = {reminder_id: ATTEMPTED for reminder_id in attempted}
    steps.update((reminder_id, outcome.value) for reminder_id, outcome in outcomes.items())
    if dialect == POSTGRESQL:
        return {"ids": list(steps), "steps": list(steps.values()), "now": now}
    return {"steps": json.dumps(steps), "now": now}


async def record_progress(
    target: Target,
    attempted: Sequence[int],
    outcomes: Mapping[int, Outcome],
    now: datetime,
) -> None:
    """Stamp reminders whose messages are about to go out (commit before sending) and record how
    others ended, in one statement: in the session's unit of work, or alone through the engine's
    driver (atomic on its own; on SQLite the caller holds the write turn). A reminder is never in
    both: its outcome comes after its stamp is committed."""
    if attempted or outcomes:
        dialect = dialect_name(target)
        values = _progress_values(dialect, attempted, outcomes, now)
        await execute(target, _progress_write_on(dialect), values)
