"""Consultations: advisors' hours and absences, cases, appointments, the slots they hold, reminders,
the waiting list, and consents."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime


class AppointmentKind(StrEnum):
    FIRST = "first"
    FOLLOW_UP = "follow_up"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DROPPED = "dropped"
    FAILED = "failed"


class AdvisorProfile(Base):
    """What people need to know to meet an advisor: where, and in which languages."""

    __tablename__ = "advisor_profiles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    place: Mapped[str | None] = mapped_column(String(200))


class ConsultationHours(Base):
    """One weekly interval in which an advisor takes consultations (local wall-clock time)."""

    __tablename__ = "consultation_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    starts: Mapped[str] = mapped_column(String(5))  # "09:00"
    ends: Mapped[str] = mapped_column(String(5))


class Absence(Base):
    """Days on which an advisor takes no consultations (holiday, training, illness)."""

    __tablename__ = "absences"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="ordered"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)


class Case(Base):
    """The integration-management record of one person, opened with their first booking."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), unique=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # How advisors address the person in notifications; given with the booking consent.
    first_name: Mapped[str | None] = mapped_column(String(64))
    # new → assessment → plan → active → closed (reopenable)
    status: Mapped[str] = mapped_column(String(12), default="new")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)  # encrypted
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))  # kept after anonymisation, for statistics
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Appointment(Base):
    """A consultation: who, with whom, when, about what, and how it went."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'cancelled', 'attended', 'no_show')", name="status_known"),
        CheckConstraint("kind IN ('first', 'follow_up')", name="kind_known"),
        CheckConstraint("starts_at < ends_at", name="ordered"),
        Index("ix_appointments_advisor_starts", "advisor_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default=AppointmentStatus.BOOKED)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(10))  # "person" or "advisor"
    cancel_reason: Mapped[str | None] = mapped_column(String(20))  # a reason code, never free text

    slots: Mapped[list[AppointmentSlot]] = relationship(cascade="all, delete-orphan")


class AppointmentSlot(Base):
    """One grid unit of an advisor's time held by a booked appointment. The unique key is what
    makes double-booking impossible, whatever happens in Python."""

    __tablename__ = "appointment_slots"
    __table_args__ = (UniqueConstraint("advisor_id", "starts_at", name="uq_appointment_slots_advisor_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A message due at a time: the database is the truth for everything scheduled."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("appointment_id", "kind", name="uq_reminders_appointment_kind"),
        Index("ix_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "before_24h", "before_2h", "outcome"
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its message was handed to Telegram in the current claim (stamped just before sending).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a crash or a timeout left it unknown whether Telegram got it; it is then resent once.
    uncertain_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WaitingListEntry(Base):
    """Someone who found no free time and wants to hear when one opens."""

    __tablename__ = "waiting_list"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting, offered, done, expired
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Consent(Base):
    """A person's consent for one purpose, with the exact text version and language they agreed to."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_person_purpose", "person_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    text_version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_how: Mapped[str] = mapped_column(String(10))  # "chat" or "in_person"
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
