"""People who talk to the bot: first contact, language, blocking, and staff roles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignoring_conflicts
from storage.models import CalendarFeed, DeskSession, DeskSignIn, Person, Role

STAFF_ROLES = (Role.ADVISOR, Role.ADMIN)


class NotStaffError(LookupError):
    """The Telegram id does not belong to a staff member."""


class LastAdminError(ValueError):
    """The change would leave nobody who can manage staff and offers."""

    def __init__(self) -> None:
        super().__init__("this is the last admin; make someone else admin first")


async def _keep_an_admin(session: AsyncSession, person: Person) -> None:
    """Refuse taking the admin role from the last admin (admin rows are locked while counting, so
    two admins demoting each other at once cannot both succeed)."""
    if person.role != Role.ADMIN:
        return
    admins = (
        await session.scalars(select(Person.id).where(Person.role == Role.ADMIN).with_for_update())
    ).all()
    if len(admins) <= 1:
        raise LastAdminError


async def person_by_telegram_id(session: AsyncSession, telegram_id: int) -> Person | None:
    """The person with this Telegram id, if they ever wrote to the bot or were added as staff."""
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def ensure_person(session: AsyncSession, telegram_id: int, now: datetime) -> Person:
    """Load the person, creating them on first contact; a message from them proves they unblocked."""
    await session.execute(
        insert_ignoring_conflicts(session, Person, ["telegram_id"]).values(
            telegram_id=telegram_id, role=Role.REFUGEE, first_seen=now, last_seen=now
        )
    )
    person = await person_by_telegram_id(session, telegram_id)
    assert person is not None
    person.last_seen = now
    person.blocked_at = None
    person.not_started_at = None
    return person


async def set_language(session: AsyncSession, person: Person, language: str) -> None:
    """Remember the language the person chose (or that their phone uses)."""
    person.language = language


async def mark_blocked(session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    """Record that the person blocked the bot; returns whether they were known."""
    result = await session.execute(
        update(Person)
        .where(Person.telegram_id == telegram_id, Person.blocked_at.is_(None))
        .values(blocked_at=now)
    )
    return bool(result.rowcount)


async def add_staff(session: AsyncSession, telegram_id: int, role: Role, name: str, now: datetime) -> Person:
    """Give a Telegram account a staff role (creating the person if they never wrote yet)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"staff role must be advisor or admin, not {role!r}")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a staff name needs 1 to 100 characters")
    person = await person_by_telegram_id(session, telegram_id)
    if person is None:
        # Never wrote to the bot: Telegram will not let it write first until they start it.
        person = Person(telegram_id=telegram_id, first_seen=now, last_seen=now, not_started_at=now)
        session.add(person)
    elif role != Role.ADMIN:
        await _keep_an_admin(session, person)
    person.role = role
    person.staff_name = name
    await session.flush()
    return person


async def list_staff(session: AsyncSession) -> Sequence[Person]:
    """All advisors and admins, admins first, then by name."""
    result = await session.scalars(
        select(Person)
        .where(Person.role.in_(STAFF_ROLES))
        .order_by(Person.role, Person.staff_name, Person.telegram_id)
    )
    return result.all()


async def remove_staff(session: AsyncSession, telegram_id: int) -> Person:
    """Take the staff role away; the account stays as an ordinary person without a stored name."""
    person = await person_by_telegram_id(session, telegram_id)
    if person is None or not person.is_staff:
        raise NotStaffError(telegram_id)
    await _keep_an_admin(session, person)
    person.role = Role.REFUGEE
    person.staff_name = None
    # Their desk sessions, sign-in links and calendar feed end now (the desk re-checks the role on
    # every request as well).
    for model in (DeskSession, DeskSignIn, CalendarFeed):
        await session.execute(delete(model).where(model.person_id == person.id))
    return person


def has_role(person: Person, *roles: Role) -> bool:
    """Whether the person holds one of the given roles."""
    return person.role in roles
