"""Who may use the staff desk: single-use sign-in links (ten minutes), browser sessions with an
idle timeout, and secret calendar feed addresses. Only hashes of tokens are stored, so a copy of
the database opens nothing. Every check re-reads the person's role: a removed staff member's
sessions end with their next request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarFeed, DeskSession, DeskSignIn, Person, Role

SIGN_IN_VALID = timedelta(minutes=10)
IDLE_TIMEOUT = timedelta(minutes=30)
SIGN_IN_LIMIT = 5  # links a staff member gets within SIGN_IN_WINDOW
SIGN_IN_WINDOW = timedelta(minutes=10)
STAFF = (Role.ADVISOR, Role.ADMIN)


class NotStaff(PermissionError):
    """Only advisors and admins use the desk."""


class TooManySignIns(Exception):
    """A staff member asked for more sign-in links than the limit allows; ``retry_after`` says
    when the next one will be given."""

    def __init__(self, retry_after: timedelta):
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def _staff(session: AsyncSession, person_id: int) -> Person | None:
    person = await session.get(Person, person_id)
    return person if person is not None and person.role in STAFF else None


async def issue_sign_in(session: AsyncSession, person_id: int, now: datetime) -> str:
    """A new sign-in token for a staff member (the raw token goes into the link, once); at most
    :data:`SIGN_IN_LIMIT` within :data:`SIGN_IN_WINDOW`, else :class:`TooManySignIns`."""
    if await _staff(session, person_id) is None:
        raise NotStaff(person_id)
    recent = (
        await session.scalars(
            select(DeskSignIn.created_at)
            .where(DeskSignIn.person_id == person_id, DeskSignIn.created_at > now - SIGN_IN_WINDOW)
            .order_by(DeskSignIn.created_at.desc())
            .limit(SIGN_IN_LIMIT)
        )
    ).all()
    if len(recent) >= SIGN_IN_LIMIT:
        raise TooManySignIns(recent[-1] + SIGN_IN_WINDOW - now)
    token = secrets.token_urlsafe(32)
    session.add(
        DeskSignIn(
            token_hash=_hash(token), person_id=person_id, created_at=now, expires_at=now + SIGN_IN_VALID
        )
    )
    return token


async def sign_in_usable(session: AsyncSession, token: str, now: datetime) -> bool:
    """Whether a sign-in token would open a session now (it is not spent by asking)."""
    sign_in = await session.get(DeskSignIn, _hash(token))
    return (
        sign_in is not None
        and sign_in.used_at is None
        and sign_in.expires_at > now
        and await _staff(session, sign_in.person_id) is not None
    )


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie
    csrf_token: str
    person_id: int


async def redeem_sign_in(
    session: AsyncSession, token: str, now: datetime, language: str = "de"
) -> OpenedSession | None:
    """Open a browser session with a sign-in token; ``None`` when it is unknown, used, expired,
    or its owner is no longer staff. A token works once, whatever happens."""
    sign_in = await session.get(DeskSignIn, _hash(token), with_for_update=True)
    if sign_in is None or sign_in.used_at is not None:
        return None
    sign_in.used_at = now
    if sign_in.expires_at <= now or await _staff(session, sign_in.person_id) is None:
        return None
    raw, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        DeskSession(
            token_hash=_hash(raw),
            person_id=sign_in.person_id,
            csrf_token=csrf,
            language=language,
            created_at=now,
            last_seen=now,
        )
    )
    return OpenedSession(raw, csrf, sign_in.person_id)


@dataclass(frozen=True)
class SignedIn:
    person: Person
    csrf_token: str
    language: str
    session_hash: str


async def signed_in(session: AsyncSession, token: str | None, now: datetime) -> SignedIn | None:
    """The staff member behind a session cookie, or ``None`` (and the session ends) when the
    session is unknown, idle too long, or its owner lost the staff role."""
    if not token:
        return None
    desk_session = await session.get(DeskSession, _hash(token))
    if desk_session is None:
        return None
    person = await _staff(session, desk_session.person_id)
    if person is None or desk_session.last_seen + IDLE_TIMEOUT <= now:
        await session.delete(desk_session)
        return None
    desk_session.last_seen = now
    return SignedIn(person, desk_session.csrf_token, desk_session.language, desk_session.token_hash)


async def set_language(session: AsyncSession, session_hash: str, language: str) -> None:
    """Remember the desk language chosen in this desk session."""
    desk_session = await session.get(DeskSession, session_hash)
    if desk_session is not None:
        desk_session.language = language


async def sign_out(session: AsyncSession, token: str | None) -> None:
    """End the desk session with this token (if any)."""
    if token:
        await session.execute(delete(DeskSession).where(DeskSession.token_hash == _hash(token)))


async def end_sessions_of(session: AsyncSession, person_id: int) -> None:
    """End every desk session and unused sign-in link of a person (staff role removed)."""
    await session.execute(delete(DeskSession).where(DeskSession.person_id == person_id))
    await session.execute(delete(DeskSignIn).where(DeskSignIn.person_id == person_id))


@dataclass(frozen=True)
class Purged:
    sign_ins: int
    sessions: int


async def purge_expired(session: AsyncSession, now: datetime) -> Purged:
    """Delete sign-in links past their expiry (used or not) and sessions idle past the timeout:
    neither can open anything any more. A link stays until then, so it still counts for the limit."""
    sign_ins = await session.execute(delete(DeskSignIn).where(DeskSignIn.expires_at <= now))
    sessions = await session.execute(delete(DeskSession).where(DeskSession.last_seen <= now - IDLE_TIMEOUT))
    return Purged(int(sign_ins.rowcount or 0), int(sessions.rowcount or 0))


async def issue_calendar_feed(session: AsyncSession, person_id: int, now: datetime) -> str:
    """A new secret calendar address for an advisor (replacing, and so revoking, the old one)."""
    person = await _staff(session, person_id)
    if person is None or person.role != Role.ADVISOR:
        raise NotStaff(person_id)
    await session.execute(delete(CalendarFeed).where(CalendarFeed.person_id == person_id))
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(token_hash=_hash(token), person_id=person_id, created_at=now))
    return token


async def revoke_calendar_feed(session: AsyncSession, person_id: int) -> None:
    """Remove the staff member's calendar subscription address."""
    await session.execute(delete(CalendarFeed).where(CalendarFeed.person_id == person_id))


async def has_calendar_feed(session: AsyncSession, person_id: int) -> bool:
    """Whether the staff member has a calendar subscription address."""
    return (
        await session.scalar(select(CalendarFeed.person_id).where(CalendarFeed.person_id == person_id))
        is not None
    )


async def calendar_owner(session: AsyncSession, token: str) -> Person | None:
    """The advisor whose feed this is, while the address is valid and they are still an advisor."""
    feed = await session.get(CalendarFeed, _hash(token))
    if feed is None:
        return None
    person = await _staff(session, feed.person_id)
    return person if person is not None and person.role == Role.ADVISOR else None
