"""What the desk needs from the runtime, built by the composition root (``bot``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from storage.booking import BookingPolicy
from storage.crypto import CaseCipher
from storage.db import SessionFactory


@dataclass(frozen=True)
class DeskServices:
    sessions: SessionFactory
    zone: ZoneInfo
    clock: Callable[[], datetime]
    policy: BookingPolicy
    municipality: str
    public_url: str  # where the desk is reached, e.g. https://wegweiser.hemmingen.de/desk
    cipher: CaseCipher | None = None
    bot_username: str | None = None  # for staff invitation deep links
    poster_pdf: Callable[[str], bytes] | None = None  # a poster source's printable PDF
    # How a news item reads in one language (Telegram HTML), for the admins' preview.
    news_preview: Callable[[str, dict[str, str]], str] | None = None

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
