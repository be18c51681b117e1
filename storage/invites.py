"""Staff invitations: an admin creates a single-use link that expires after seven days; whoever
opens it in Telegram receives the role and name it carries. Only a hash of the token is stored,
so a copy of the database invites nobody."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people
from storage.models import Person, Role, StaffInvite

INVITE_VALID = timedelta(days=7)
STAFF_ROLES = (Role.ADVISOR, Role.ADMIN)
NAME_LIMIT = 100


class NotAllowed(PermissionError):
    """Only admins invite staff."""


class InvalidInvite(ValueError):
    """The invitation's role or name does not fit. ``reason`` is "role" or "name"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def _admin(session: AsyncSession, person_id: int | None) -> Person | None:
    person = await session.get(Person, person_id) if person_id is not None else None
    return person if person is not None and person.role == Role.ADMIN else None


async def create_invite(session: AsyncSession, admin_id: int, role: str, name: str, now: datetime) -> str:
    """A new invitation for ``role`` under ``name``; returns the raw token (shown once, in the link)."""
    if await _admin(session, admin_id) is None:
        raise NotAllowed(admin_id)
    return await _new_invite(session, admin_id, role, name, now)


async def create_operator_invite(session: AsyncSession, role: str, name: str, now: datetime) -> str:
    """An invitation made by the operator on the server (``wegweiser staff invite``), who needs no
    admin account: this is how the first admin gets in. Returns the raw token."""
    return await _new_invite(session, None, role, name, now)


async def _new_invite(
    session: AsyncSession, admin_id: int | None, role: str, name: str, now: datetime
) -> str:
    if role not in STAFF_ROLES:
        raise InvalidInvite("role")
    name = name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise InvalidInvite("name")
    token = secrets.token_urlsafe(32)
    session.add(
        StaffInvite(
            token_hash=_hash(token),
            role=role,
            name=name,
            created_by=admin_id,
            by_operator=admin_id is None,
            created_at=now,
            expires_at=now + INVITE_VALID,
        )
    )
    await session.flush()
    return token


async def redeem_invite(session: AsyncSession, token: str, person_id: int, now: datetime) -> Person | None:
    """Give the person the invitation's role and name; ``None`` when the token is unknown, used,
    expired, or its creator (unless the operator) is no longer an admin. A token works once, even
    when two people open it at the same moment (the conditional update claims it). An admin who
    opens an advisor invitation stays admin: an invitation never takes a role away."""
    invite = await session.scalar(select(StaffInvite).where(StaffInvite.token_hash == _hash(token)))
    person = await session.get(Person, person_id)
    if invite is None or person is None:
        return None
    if not invite.by_operator and await _admin(session, invite.created_by) is None:
        return None
    claimed = await session.execute(
        update(StaffInvite)
        .where(StaffInvite.id == invite.id, StaffInvite.used_at.is_(None), StaffInvite.expires_at > now)
        .values(used_at=now, used_by=person_id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    role = Role.ADMIN if person.role == Role.ADMIN else Role(invite.role)
    return await people.add_staff(session, person.telegram_id, role, invite.name, now)


async def open_invites(session: AsyncSession, now: datetime) -> Sequence[StaffInvite]:
    """Invitations not used yet and not expired, newest first."""
    result = await session.scalars(
        select(StaffInvite)
        .where(StaffInvite.used_at.is_(None), StaffInvite.expires_at > now)
        .order_by(StaffInvite.created_at.desc(), StaffInvite.id.desc())
    )
    return result.all()


async def withdraw_invite(session: AsyncSession, admin_id: int, invite_id: int) -> bool:
    """An admin withdraws an unused invitation; returns whether there was one."""
    if await _admin(session, admin_id) is None:
        raise NotAllowed(admin_id)
    result = await session.execute(
        delete(StaffInvite).where(StaffInvite.id == invite_id, StaffInvite.used_at.is_(None))
    )
    return bool(result.rowcount)


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete invitations past their expiry, used or not (the role they gave stays); returns how many."""
    result = await session.execute(delete(StaffInvite).where(StaffInvite.expires_at <= now))
    return int(result.rowcount or 0)
