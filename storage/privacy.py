"""A person's privacy rights over their own data: see what is stored, withdraw a consent, delete
everything (the copy of everything is ``storage.data_export``).

Pure domain operations over a session: nothing here knows Telegram or texts. Every function works
on one person only, found by their internal id, and never returns another person's data (advisors
appear by first name only).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import audit
from storage.consent import Purpose, withdraw_consent
from storage.db import after_commit
from storage.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    Case,
    CaseNote,
    Consent,
    Goal,
    NeedAssessment,
    NewsDelivery,
    PendingInput,
    Person,
    Referral,
    Reminder,
    ReminderStatus,
    Review,
    WaitingListEntry,
)
from storage.person_cache import forget_after_commit
from storage.query_plans import not_by_index
from storage.reminders import BEFORE

log = logging.getLogger(__name__)
CASE_RECORDS = (NeedAssessment, Goal, Review, CaseNote, Referral)


class DeletionRefused(PermissionError):
    """Staff accounts are not deleted by their owner: an admin removes the staff role first."""


# ---- what is stored ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRecord:
    purpose: str
    version: str
    language: str
    given_at: datetime
    how: str  # "chat" or "in_person"
    withdrawn_at: datetime | None

    @property
    def in_force(self) -> bool:
        """Whether the consent has not been withdrawn."""
        return self.withdrawn_at is None


@dataclass(frozen=True)
class CaseSummary:
    number: str
    status: str
    opened_at: datetime
    has_first_name: bool


@dataclass(frozen=True)
class AppointmentSummary:
    starts_at: datetime
    ends_at: datetime
    status: str
    topic: str


@dataclass(frozen=True)
class WaitingSummary:
    topic: str
    joined_at: datetime
    status: str


@dataclass(frozen=True)
class PersonData:
    """What is stored about a person, as counts and dates (no free texts)."""

    language: str | None
    first_seen: datetime
    consents: tuple[ConsentRecord, ...]
    case: CaseSummary | None
    appointments: tuple[AppointmentSummary, ...]
    waiting: tuple[WaitingSummary, ...]
    referrals: int
    has_case_texts: bool

    @property
    def consents_in_force(self) -> tuple[ConsentRecord, ...]:
        """The consents not withdrawn."""
        return tuple(consent for consent in self.consents if consent.in_force)


async def case_of(session: AsyncSession, person_id: int) -> Case | None:
    """The person's case, if they have one."""
    return await session.scalar(select(Case).where(Case.person_id == person_id))


async def _has_case_texts(session: AsyncSession, case: Case) -> bool:
    if case.extension_reason is not None:
        return True
    texts = (
        exists().where(NeedAssessment.case_id == case.id, NeedAssessment.note.is_not(None)),
        exists().where(Goal.case_id == case.id),
        exists().where(Review.case_id == case.id),
        exists().where(CaseNote.case_id == case.id),
    )
    return bool(await session.scalar(select(or_(*texts))))


async def appointments_of(session: AsyncSession, person_id: int, case: Case | None) -> Sequence[Appointment]:
    """The person's appointments and their case's, earliest first."""
    mine = Appointment.person_id == person_id
    if case is not None:
        mine = or_(mine, Appointment.case_id == case.id)
    return (await session.scalars(select(Appointment).where(mine).order_by(Appointment.starts_at))).all()


async def what_is_stored(session: AsyncSession, person_id: int) -> PersonData | None:
    """A summary of everything stored about the person, or ``None`` for an unknown person."""
    person = await session.get(Person, person_id)
    if person is None:
        return None
    consents = await session.scalars(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.given_at, Consent.id)
    )
    case = await case_of(session, person_id)
    appointments = await appointments_of(session, person_id, case)
    waiting = await session.scalars(
        select(WaitingListEntry)
        .where(WaitingListEntry.person_id == person_id)
        .order_by(WaitingListEntry.joined_at)
    )
    referrals = 0
    if case is not None:
        count = select(func.count(Referral.id)).where(Referral.case_id == case.id)
        referrals = await session.scalar(count) or 0
    return PersonData(
        language=person.language,
        first_seen=person.first_seen,
        consents=tuple(
            ConsentRecord(c.purpose, c.text_version, c.language, c.given_at, c.given_how, c.withdrawn_at)
            for c in consents
        ),
        case=CaseSummary(case.number, case.status, case.opened_at, bool(case.first_name)) if case else None,
        appointments=tuple(
            AppointmentSummary(a.starts_at, a.ends_at, a.status, a.topic) for a in appointments
        ),
        waiting=tuple(WaitingSummary(w.topic, w.joined_at, w.status) for w in waiting),
        referrals=referrals,
        has_case_texts=case is not None and await _has_case_texts(session, case),
    )


# ---- withdrawing a consent ---------------------------------------------------------------------


async def withdraw(session: AsyncSession, person_id: int, purpose: str, now: datetime) -> bool:
    """Withdraw the person's consent for one purpose; returns whether one was in force.

    What follows from it: *booking* — nothing booked is cancelled, but booking again asks for
    consent again (``storage.booking.book`` requires it); *reminders* — the pending reminders of
    the person's appointments are dropped (advisors' outcome questions stay); *case* — no new case
    texts (the case store checks the consent); *referral* — nothing new is passed on."""
    purpose = Purpose(purpose)
    withdrawn = await withdraw_consent(session, person_id, purpose, now)
    if withdrawn and purpose == Purpose.REMINDERS:
        await session.execute(
            update(Reminder)
            .where(
                Reminder.appointment_id.in_(select(Appointment.id).where(Appointment.person_id == person_id)),
                Reminder.kind.in_(tuple(BEFORE)),
                # By the person's appointments, not from every pending reminder (storage.query_plans).
                not_by_index(Reminder.status) == ReminderStatus.PENDING,
            )
            .values(status=ReminderStatus.DROPPED)
        )
    return withdrawn


# ---- deleting everything -----------------------------------------------------------------------


@dataclass(frozen=True)
class CancelledAppointment:
    """A booked appointment that was still ahead: what its advisor needs to be told."""

    advisor: Person | None  # detached: id, telegram id, language, blocked_at
    starts_at: datetime
    ends_at: datetime
    case_number: str
    first_name: str | None


@dataclass(frozen=True)
class Deletion:
    """What deleting a person removed, and whom to tell about cancelled appointments."""

    cancelled: tuple[CancelledAppointment, ...]
    removed: dict[str, int]  # table name → rows deleted


async def delete_everything(
    session: AsyncSession, person_id: int, now: datetime, *, actor_role: str = "person"
) -> Deletion:
    """Remove the person, their case and everything hanging on either; future booked appointments
    are returned so their advisors can be told. Leaves one anonymous audit entry (by the person, or
    by the ``"system"`` when retention deletes someone after their last contact)."""
    person = await session.get(Person, person_id)
    if person is None:
        return Deletion((), {})
    if person.is_staff:
        raise DeletionRefused("staff accounts are removed by an admin")
    case = await case_of(session, person_id)
    appointments = await appointments_of(session, person_id, case)
    cancelled = []
    for appointment in appointments:
        if appointment.status == AppointmentStatus.BOOKED and appointment.starts_at > now:
            advisor = await session.get(Person, appointment.advisor_id) if appointment.advisor_id else None
            cancelled.append(
                CancelledAppointment(
                    advisor=advisor,
                    starts_at=appointment.starts_at,
                    ends_at=appointment.ends_at,
                    case_number=case.number if case else "–",
                    first_name=case.first_name if case else None,
                )
            )
    appointment_ids = [appointment.id for appointment in appointments]
    removed: dict[str, int] = {}

    async def remove(table: str, statement: Any) -> None:
        result = await session.execute(statement, execution_options={"synchronize_session": False})
        removed[table] = removed.get(table, 0) + int(result.rowcount or 0)

    if appointment_ids:
        await remove("reminders", delete(Reminder).where(Reminder.appointment_id.in_(appointment_ids)))
        await remove(
            "appointment_slots",
            delete(AppointmentSlot).where(AppointmentSlot.appointment_id.in_(appointment_ids)),
        )
    if case is not None:
        for model in CASE_RECORDS:
            await remove(model.__tablename__, delete(model).where(model.case_id == case.id))
    if appointment_ids:
        await remove("appointments", delete(Appointment).where(Appointment.id.in_(appointment_ids)))
    if case is not None:
        await remove("cases", delete(Case).where(Case.id == case.id))
    await remove("waiting_list", delete(WaitingListEntry).where(WaitingListEntry.person_id == person_id))
    await remove("news_deliveries", delete(NewsDelivery).where(NewsDelivery.person_id == person_id))
    await remove("consents", delete(Consent).where(Consent.person_id == person_id))
    await remove("pending_inputs", delete(PendingInput).where(PendingInput.person_id == person_id))
    await remove("people", delete(Person).where(Person.id == person_id))
    forget_after_commit(session, person.telegram_id)
    for gone in (person, case, *appointments):
        if gone is not None:
            session.expunge(gone)
    await audit.record(
        session,
        actor_id=None,
        actor_role=actor_role,
        action="person.deleted",
        case_number=None,
        now=now,
        detail=None,
    )
    after_commit(session, forget_deleted_bytes)
    return Deletion(tuple(cancelled), removed)


async def forget_deleted_bytes(engine: AsyncEngine) -> None:
    """After a deletion has committed, on SQLite: copy the pages that ``secure_delete`` zeroed into
    the database file and empty the write-ahead log, whose older frames still hold the deleted rows.
    A failure is logged and left to SQLite's next automatic checkpoint. (PostgreSQL: nothing here.)"""
    if engine.dialect.name != "sqlite":
        return
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            # On the driver's connection: SQLAlchemy would open a transaction, inside which SQLite
            # cannot checkpoint.
            await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception as error:  # the deletion itself stands; only the clean-up is late
        log.warning("checkpoint after a deletion failed: %s", type(error).__name__)
