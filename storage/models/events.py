"""Dated events of offers: one-off, or weekly from a first to an optional last day with exceptions."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class OfferEvent(Base):
    """One event rule of an offer (see ``storage.events`` for how it turns into dates)."""

    __tablename__ = "offer_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    weekly: Mapped[bool] = mapped_column(Boolean)
    first_day: Mapped[date] = mapped_column(Date)  # the one day, or the first weekly day
    last_day: Mapped[date | None] = mapped_column(Date)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    place: Mapped[str | None] = mapped_column(String(200))
    exceptions: Mapped[list[str] | None] = mapped_column(JSON)  # ISO dates without the event
