"""The integration-management record beyond appointments: needs assessment, integration plan
(goals and reviews), consultation notes, referrals, and the append-only audit log.

Free texts are stored encrypted (``storage.crypto``); the columns hold Fernet tokens.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

NEED_AREAS = ("language", "work", "housing", "health", "children", "money", "papers", "social", "mobility")
NEED_STATUSES = ("unknown", "no_need", "need", "in_progress", "met")
GOAL_STATUSES = ("open", "in_progress", "reached", "dropped")


class NeedAssessment(Base):
    """One area of the needs assessment of a case, with its status and an encrypted note."""

    __tablename__ = "need_assessments"
    __table_args__ = (
        UniqueConstraint("case_id", "area", name="uq_need_assessments_case_area"),
        CheckConstraint(f"area IN {NEED_AREAS}", name="area_known"),
        CheckConstraint(f"status IN {NEED_STATUSES}", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    area: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="unknown")
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Goal(Base):
    """A concrete goal of the integration plan, with the steps agreed and a due date."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint(f"area IN {NEED_AREAS}", name="area_known"),
        CheckConstraint(f"status IN {GOAL_STATUSES}", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    area: Mapped[str] = mapped_column(String(12))
    goal: Mapped[str | None] = mapped_column(Text)  # encrypted; emptied when the case is anonymised
    steps: Mapped[str | None] = mapped_column(Text)  # encrypted
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """A review of the plan in a regular conversation (Fortschreibung)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)  # encrypted; emptied when the case is anonymised
    next_review_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseNote(Base):
    """A consultation note, optionally tied to an appointment."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)  # encrypted
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """A person asked for help with an offer, with their consent to share it with that service."""

    __tablename__ = "referrals"
    __table_args__ = (CheckConstraint("status IN ('open', 'done', 'withdrawn')", name="status_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what to which case, when. Append-only (database triggers refuse changes) and
    tamper-evident: each row carries a keyed hash (HMAC) over its content and the previous row's
    hash, and a unique previous hash keeps the chain a single line even when two instances append
    at once."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # a staff member's person id; None for the system
    actor_role: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(40))
    case_number: Mapped[str | None] = mapped_column(String(12), index=True)
    detail: Mapped[str | None] = mapped_column(String(200))  # never personal data
    previous_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))  # the HMAC key's fingerprint; None: legacy SHA-256
