"""What running Wegweiser needs besides the domain: notifications waiting for staff who have not
started the bot yet, and the canary that proves the configured case key fits the stored texts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class WaitingNotification(Base):
    """A message for a staff member Telegram would not let the bot send yet ("bot can't initiate
    conversation"); delivered, then deleted, when they start the bot."""

    __tablename__ = "waiting_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseKeyCanary(Base):
    """A known text encrypted with the case key: if it decrypts, the configured key fits the data."""

    __tablename__ = "case_key_canary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
