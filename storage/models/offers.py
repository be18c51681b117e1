"""The directory of local offers and clubs: offers, their texts per language, and their change log."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime


class Category(StrEnum):
    LANGUAGE = "language"
    WORK = "work"
    HOUSING = "housing"
    HEALTH = "health"
    CHILDREN = "children"
    COUNSELLING = "counselling"
    EVERYDAY = "everyday"
    LEISURE = "leisure"
    VOLUNTEERING = "volunteering"
    FAMILIES = "families"


class OfferStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Offer(Base):
    """One local offer, service or club. Texts live in :class:`OfferText`, one row per language."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'archived')", name="status_known"),
        CheckConstraint(
            "category IN ('language', 'work', 'housing', 'health', 'children', 'counselling', "
            "'everyday', 'leisure', 'volunteering', 'families')",
            name="category_known",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(10), default=OfferStatus.ACTIVE)
    example: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Weekly opening hours: {"mon": [["09:00", "12:00"], ...], ...}; missing days are closed.
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    barrier_free: Mapped[bool | None] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(300))
    last_verified: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    texts: Mapped[list[OfferText]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferText.language"
    )


class OfferText(Base):
    """What an offer is, in one language."""

    __tablename__ = "offer_texts"
    __table_args__ = (UniqueConstraint("offer_id", "language", name="uq_offer_texts_offer_language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(Text)
    audience: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str] | None] = mapped_column(JSON)

    offer: Mapped[Offer] = relationship(back_populates="texts")


class OfferChange(Base):
    """Who changed what in the directory, and when (kept when an offer is deleted)."""

    __tablename__ = "offer_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_slug: Mapped[str] = mapped_column(String(80), index=True)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(30))
    field: Mapped[str | None] = mapped_column(String(40))
    # Where the change came from when no person made it in the bot: "cli import", "expiry".
    source: Mapped[str | None] = mapped_column(String(40))
