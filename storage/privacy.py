"""A person's privacy rights over their own data: see what is stored, take a copy, withdraw a
consent, delete everything.

Pure domain operations over a session: nothing here knows Telegram or texts. Every function works
on one person only, found by their internal id, and never returns another person's data (advisors
appear by first name only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.consent import Purpose, withdraw_consent
from storage.crypto import CaseCipher, UnreadableText
from storage.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    AuditEntry,
    Case,
    CaseNote,
    Consent,
    Goal,
    NeedAssessment,
    Offer,
    PendingInput,
    Person,
    Referral,
    Reminder,
    ReminderStatus,
    Review,
    WaitingListEntry,
)
from storage.person_cache import forget_after_commit
from storage.reminders import BEFORE

EXPORT_FORMAT = "wegweiser-person-data/1"
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
        return tuple(consent for consent in self.consents if consent.in_force)


async def _case_of(session: AsyncSession, person_id: int) -> Case | None:
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


async def _appointments_of(session: AsyncSession, person_id: int, case: Case | None) -> Sequence[Appointment]:
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
    case = await _case_of(session, person_id)
    appointments = await _appointments_of(session, person_id, case)
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


# ---- a copy of everything ----------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class _Texts:
    """Decrypts case texts for the export and remembers whether all of them could be read."""

    def __init__(self, cipher: CaseCipher | None):
        self.cipher = cipher
        self.found = False
        self.unreadable = False

    def read(self, token: str | None) -> str | None:
        if token is None:
            return None
        self.found = True
        if self.cipher is None:
            return None
        try:
            return self.cipher.decrypt(token)
        except UnreadableText:
            self.unreadable = True
            return None

    @property
    def status(self) -> str:
        if not self.found:
            return "none"
        if self.cipher is None:
            return "not_included"
        return "partly_unreadable" if self.unreadable else "included"


class _Names:
    """Staff by first name only; other people's ids never leave this module."""

    def __init__(self, session: AsyncSession):
        self.session = session
        self.cache: dict[int, str | None] = {}

    async def first_name(self, person_id: int | None) -> str | None:
        if person_id is None:
            return None
        if person_id not in self.cache:
            person = await self.session.get(Person, person_id)
            name = person.staff_name if person is not None and person.is_staff else None
            self.cache[person_id] = name.split()[0] if name else None
        return self.cache[person_id]


async def _offer_slug(session: AsyncSession, offer_id: int | None) -> str | None:
    return await session.scalar(select(Offer.slug).where(Offer.id == offer_id)) if offer_id else None


async def export_person_data(
    session: AsyncSession, cipher: CaseCipher | None, person_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Everything stored about the person, JSON-serialisable (ISO dates), case texts decrypted
    when a cipher is given. ``case_texts`` says whether they are included ("none" when the case
    has no texts, "not_included" without a key, "partly_unreadable" when a key is missing)."""
    person = await session.get(Person, person_id)
    if person is None:
        raise LookupError("no such person")
    texts, names = _Texts(cipher), _Names(session)
    consents = (
        await session.scalars(
            select(Consent).where(Consent.person_id == person_id).order_by(Consent.given_at, Consent.id)
        )
    ).all()
    case = await _case_of(session, person_id)
    appointments = await _appointments_of(session, person_id, case)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "person": {
            "telegram_id": person.telegram_id,
            "language": person.language,
            "role": person.role,
            "first_seen": _iso(person.first_seen),
            "last_seen": _iso(person.last_seen),
            "blocked_at": _iso(person.blocked_at),
        },
        "consents": [
            {
                "purpose": consent.purpose,
                "text_version": consent.text_version,
                "language": consent.language,
                "given_at": _iso(consent.given_at),
                "given_how": consent.given_how,
                "recorded_by": await names.first_name(consent.recorded_by),
                "detail": consent.detail,
                "withdrawn_at": _iso(consent.withdrawn_at),
            }
            for consent in consents
        ],
        "case": None,
        "needs_assessment": [],
        "goals": [],
        "reviews": [],
        "consultation_notes": [],
        "referrals": [],
        "appointments": [],
        "waiting_list": [],
        "pending_question": None,
        "case_access_log": [],
    }
    starts = {appointment.id: appointment.starts_at for appointment in appointments}
    if case is not None:
        data["case"] = {
            "number": case.number,
            "status": case.status,
            "first_name": case.first_name,
            "opened_at": _iso(case.opened_at),
            "period_start": _iso(case.period_start),
            "period_end": _iso(case.period_end),
            "extension_reason": texts.read(case.extension_reason),
            "closed_at": _iso(case.closed_at),
            "language": case.language,
            "advisor": await names.first_name(case.advisor_id),
        }
        for need in await session.scalars(
            select(NeedAssessment).where(NeedAssessment.case_id == case.id).order_by(NeedAssessment.id)
        ):
            data["needs_assessment"].append(
                {
                    "area": need.area,
                    "status": need.status,
                    "note": texts.read(need.note),
                    "updated_at": _iso(need.updated_at),
                }
            )
        for goal in await session.scalars(select(Goal).where(Goal.case_id == case.id).order_by(Goal.id)):
            data["goals"].append(
                {
                    "area": goal.area,
                    "goal": texts.read(goal.goal),
                    "steps": texts.read(goal.steps),
                    "due_on": _iso(goal.due_on),
                    "status": goal.status,
                    "created_at": _iso(goal.created_at),
                    "updated_at": _iso(goal.updated_at),
                }
            )
        for review in await session.scalars(
            select(Review).where(Review.case_id == case.id).order_by(Review.held_on, Review.id)
        ):
            data["reviews"].append(
                {
                    "held_on": _iso(review.held_on),
                    "summary": texts.read(review.summary),
                    "next_review_on": _iso(review.next_review_on),
                    "by": await names.first_name(review.created_by),
                    "created_at": _iso(review.created_at),
                }
            )
        for note in await session.scalars(
            select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at, CaseNote.id)
        ):
            data["consultation_notes"].append(
                {
                    "created_at": _iso(note.created_at),
                    "appointment_starts_at": _iso(starts.get(note.appointment_id or -1)),
                    "text": texts.read(note.text),
                    "by": await names.first_name(note.author_id),
                }
            )
        for referral in await session.scalars(
            select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)
        ):
            data["referrals"].append(
                {
                    "offer": await _offer_slug(session, referral.offer_id),
                    "status": referral.status,
                    "created_at": _iso(referral.created_at),
                }
            )
        for entry in await session.scalars(
            select(AuditEntry).where(AuditEntry.case_number == case.number).order_by(AuditEntry.id)
        ):
            data["case_access_log"].append(
                {
                    "at": _iso(entry.at),
                    "by": await names.first_name(entry.actor_id),
                    "role": entry.actor_role,
                    "action": entry.action,
                }
            )
    for appointment in appointments:
        reminders = await session.scalars(
            select(Reminder).where(Reminder.appointment_id == appointment.id).order_by(Reminder.due_at)
        )
        data["appointments"].append(
            {
                "starts_at": _iso(appointment.starts_at),
                "ends_at": _iso(appointment.ends_at),
                "kind": appointment.kind,
                "topic": appointment.topic,
                "language": appointment.language,
                "interpreter": appointment.interpreter,
                "offer": await _offer_slug(session, appointment.offer_id),
                "status": appointment.status,
                "booked_at": _iso(appointment.booked_at),
                "cancelled_by": appointment.cancelled_by,
                "cancel_reason": appointment.cancel_reason,
                "advisor": await names.first_name(appointment.advisor_id),
                "reminders": [
                    {
                        "kind": reminder.kind,
                        "due_at": _iso(reminder.due_at),
                        "status": reminder.status,
                        "sent_at": _iso(reminder.sent_at),
                    }
                    for reminder in reminders
                ],
            }
        )
    for entry in await session.scalars(
        select(WaitingListEntry).where(WaitingListEntry.person_id == person_id).order_by(WaitingListEntry.id)
    ):
        data["waiting_list"].append(
            {
                "topic": entry.topic,
                "language": entry.language,
                "interpreter": entry.interpreter,
                "joined_at": _iso(entry.joined_at),
                "status": entry.status,
                "offered_at": _iso(entry.offered_at),
                "offered_starts_at": _iso(entry.offered_starts_at),
                "offer_expires_at": _iso(entry.offer_expires_at),
            }
        )
    pending = await session.get(PendingInput, person_id)
    if pending is not None:
        data["pending_question"] = {
            "kind": pending.kind,
            "payload": pending.payload,
            "asked_at": _iso(pending.asked_at),
        }
    data["case_texts"] = texts.status
    if data["case_texts"] in ("not_included", "partly_unreadable"):
        data["case_texts_note"] = (
            "The case also holds texts (needs, plan, reviews, notes). They are stored encrypted and "
            "could not all be decrypted for this export; the integration management can provide them."
        )
    return data


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
                Reminder.status == ReminderStatus.PENDING,
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


async def delete_everything(session: AsyncSession, person_id: int, now: datetime) -> Deletion:
    """Remove the person, their case and everything hanging on either; future booked appointments
    are returned so their advisors can be told. Leaves one anonymous audit entry."""
    person = await session.get(Person, person_id)
    if person is None:
        return Deletion((), {})
    if person.is_staff:
        raise DeletionRefused("staff accounts are removed by an admin")
    case = await _case_of(session, person_id)
    appointments = await _appointments_of(session, person_id, case)
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
        actor_role="person",
        action="person.deleted",
        case_number=None,
        now=now,
        detail=None,
    )
    return Deletion(tuple(cancelled), removed)
