"""Arrivals through posters: per source and day, numbers only (never who came from where)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PosterArrival(Base):
    """How many ``/start`` taps came through one poster source on one local day, and how many of
    them were people writing to the bot for the first time."""

    __tablename__ = "poster_arrivals"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    starts: Mapped[int] = mapped_column(Integer, default=0)
    new_people: Mapped[int] = mapped_column(Integer, default=0)
