"""News people asked for: items an admin writes, their texts per language, and one delivery row
per recipient, sent from a database-backed queue like reminders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class NewsStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for its sending time
    SENDING = "sending"  # recipients are queued; the dispatcher works through them
    SENT = "sent"  # every delivery is finished
    CANCELLED = "cancelled"  # stopped by an admin; unsent deliveries were cancelled


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a dispatcher, on its way
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot
    SKIPPED = "skipped"  # consent withdrawn before it was sent
    FAILED = "failed"
    CANCELLED = "cancelled"


class NewsItem(Base):
    """One piece of news; who receives it is decided when it is due (subscribers at that time)."""

    __tablename__ = "news_items"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'sending', 'sent', 'cancelled')", name="status_known"),
        Index("ix_news_items_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    languages: Mapped[str | None] = mapped_column(String(60))  # "ar,uk"; None: every subscriber
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=NewsStatus.SCHEDULED)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NewsText(Base):
    """The news in one language (German is always there)."""

    __tablename__ = "news_texts"

    news_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class NewsDelivery(Base):
    """One recipient of one news item: queued once (unique), claimed, then finished."""

    __tablename__ = "news_deliveries"
    __table_args__ = (
        UniqueConstraint("news_id", "person_id", name="uq_news_deliveries_once_per_person"),
        Index("ix_news_deliveries_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    news_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.QUEUED)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
