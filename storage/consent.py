"""Consents: given per purpose with the exact text version and language, withdrawable at any time.

A new text version asks again: only a consent to the current version counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Consent


class Purpose(StrEnum):
    BOOKING = "booking"
    CASE_MANAGEMENT = "case"
    REMINDERS = "reminders"
    REFERRAL = "referral"


# The version of each consent text; raise it when the text's meaning changes.
CURRENT_VERSIONS: dict[str, str] = {
    Purpose.BOOKING: "2026-11",
    Purpose.CASE_MANAGEMENT: "2026-11",
    Purpose.REMINDERS: "2026-11",
    Purpose.REFERRAL: "2026-11",
}


class ConsentMissing(PermissionError):
    """The operation needs a consent the person has not (or no longer) given."""

    def __init__(self, purpose: str):
        super().__init__(purpose)
        self.purpose = purpose


async def valid_consent(session: AsyncSession, person_id: int, purpose: str) -> Consent | None:
    """The person's consent to the current text for this purpose, unless withdrawn."""
    return await session.scalar(
        select(Consent)
        .where(
            Consent.person_id == person_id,
            Consent.purpose == purpose,
            Consent.text_version == CURRENT_VERSIONS[purpose],
            Consent.withdrawn_at.is_(None),
        )
        .order_by(Consent.given_at.desc())
        .limit(1)
    )


async def require_consent(session: AsyncSession, person_id: int, purpose: str) -> Consent:
    """The person's valid consent for the purpose; :class:`ConsentMissing` without one."""
    consent = await valid_consent(session, person_id, purpose)
    if consent is None:
        raise ConsentMissing(purpose)
    return consent


async def give_consent(
    session: AsyncSession,
    person_id: int,
    purpose: str,
    language: str,
    now: datetime,
    *,
    how: str = "chat",
    recorded_by: int | None = None,
    detail: str | None = None,
) -> Consent:
    """Record a consent to the current text (a repeated tap records nothing new)."""
    existing = await valid_consent(session, person_id, purpose)
    if existing is not None:
        return existing
    consent = Consent(
        person_id=person_id,
        purpose=purpose,
        text_version=CURRENT_VERSIONS[purpose],
        language=language,
        given_at=now,
        given_how=how,
        recorded_by=recorded_by,
        detail=detail,
    )
    session.add(consent)
    await session.flush()
    return consent


async def give_booking_consent(session: AsyncSession, person_id: int, language: str, now: datetime) -> None:
    """The booking consent text covers reminders too: agreeing gives both (reminders can be
    withdrawn on their own later)."""
    for purpose in (Purpose.BOOKING, Purpose.REMINDERS):
        await give_consent(session, person_id, purpose, language, now)


async def withdraw_consent(session: AsyncSession, person_id: int, purpose: str, now: datetime) -> bool:
    """Withdraw every open consent of the person for the purpose; returns whether there was one."""
    open_consents = await session.scalars(
        select(Consent).where(
            Consent.person_id == person_id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None)
        )
    )
    withdrawn = False
    for consent in open_consents:
        consent.withdrawn_at = now
        withdrawn = True
    return withdrawn


async def consents_of(session: AsyncSession, person_id: int) -> Sequence[Consent]:
    """Every consent the person ever gave, oldest first."""
    result = await session.scalars(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.given_at)
    )
    return result.all()
