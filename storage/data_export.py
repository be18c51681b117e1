"""A copy of everything stored about a person (the right of access, Art. 15 GDPR): JSON-ready,
with case texts decrypted where the key allows; other people appear by first name only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import CaseCipher, UnreadableText
from storage.models import (
    AuditEntry,
    CaseNote,
    Consent,
    Goal,
    NeedAssessment,
    Offer,
    PendingInput,
    Person,
    Referral,
    Reminder,
    Review,
    WaitingListEntry,
)
from storage.privacy import appointments_of, case_of

EXPORT_FORMAT = "wegweiser-person-data/1"


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
    case = await case_of(session, person_id)
    appointments = await appointments_of(session, person_id, case)
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
