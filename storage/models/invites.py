"""Staff invitations: single-use, expiring Telegram deep links that grant a staff role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class StaffInvite(Base):
    """An invitation an admin created; only the hash of its token is stored."""

    __tablename__ = "staff_invites"
    __table_args__ = (CheckConstraint("role IN ('advisor', 'admin')", name="role_staff"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))  # becomes the staff name
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Created by the operator with ``wegweiser staff invite`` rather than by an admin on the desk.
    by_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
