"""People who talk to the bot, and the update ids already processed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Integer, String
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

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADVISOR, Role.ADMIN)


class ProcessedUpdate(Base):
    """Telegram update ids seen recently, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
