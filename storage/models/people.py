"""People who talk to the bot, what the bot waits for them to type, and processed update ids."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Role(StrEnum):
    REFUGEE = "refugee"
    ADVISOR = "advisor"
    ADMIN = "admin"


class Person(Base):
    """Someone who wrote to the bot. Staff are people with an advisor or admin role."""

    __tablename__ = "people"
    __table_args__ = (CheckConstraint("role IN ('refugee', 'advisor', 'admin')", name="role_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16), default=Role.REFUGEE)
    # Only staff have a stored name: refugees are addressed without one until a case needs it.
    staff_name: Mapped[str | None] = mapped_column(String(100))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while Telegram will not let the bot write first (staff added before they opened the bot).
    not_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_staff(self) -> bool:
        """Whether the person is an advisor or an admin."""
        return self.role in (Role.ADVISOR, Role.ADMIN)


class ProcessedUpdate(Base):
    """Telegram update ids seen recently, so a redelivered update is handled once.

    In webhook mode it is also the inbox: the update is recorded (with its ``payload``) before
    Telegram gets its 200, ``handled_at`` is set when an instance starts handling it, and
    ``busy_until`` marks the person's turn while that instance works on it (see ``storage.updates``)."""

    __tablename__ = "processed_updates"
    # And the partial index of the updates not started yet: `unhandled_updates_index`.
    __table_args__ = (Index("ix_processed_updates_person_key_update_id", "person_key", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    payload: Mapped[str | None] = mapped_column(Text)
    person_key: Mapped[int | None] = mapped_column(BigInteger)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    busy_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


@cache
def unhandled_updates_index() -> Index:
    """The updates not started yet: few among the days of handled ones the table keeps (a partial
    index on both databases). Declared on the table when schema work asks for it
    (``storage.models.schema_metadata``), not when the models load: its options for PostgreSQL
    would load SQLAlchemy's PostgreSQL dialect even on SQLite (``storage.dialects``), and the bot's
    queries need only the index in the database, which the migrations create."""
    return Index(
        "ix_processed_updates_unhandled",
        ProcessedUpdate.update_id,
        sqlite_where=text("handled_at IS NULL"),
        postgresql_where=text("handled_at IS NULL"),
    )


class PendingInput(Base):
    """A question the bot asked and is waiting for a typed answer to, kept across restarts."""

    __tablename__ = "pending_inputs"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
