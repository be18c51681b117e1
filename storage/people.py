"""People who talk to the bot: first contact, language, blocking, and staff roles.

Staff rules refuse with :class:`DomainError`: ``staff_id`` (not a Telegram user id), ``staff_role``,
``staff_name``, ``not_staff``, ``last_admin`` (nobody would be left to manage staff) and
``own_role`` (admins do not change or remove their own role).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignoring_conflicts
from storage.errors import DomainError
from storage.models import CalendarFeed, DeskSession, DeskSignIn, Person, Role
from storage.person_cache import forget_after_commit

STAFF_ROLES = (Role.ADVISOR, Role.ADMIN)


async def _keep_an_admin(session: AsyncSession, person: Person) -> None:
    """Refuse taking the admin role from the last admin (admin rows are locked while counting, so
    two admins demoting each other at once cannot both succeed)."""
    if person.role != Role.ADMIN:
        return
    admins = (
        await session.scalars(select(Person.id).where(Person.role == Role.ADMIN).with_for_update())
    ).all()
    if len(admins) <= 1:
        raise DomainError("last_admin")


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
    forget_after_commit(session, telegram_id)
    result = await session.execute(
        update(Person)
        .where(Person.telegram_id == telegram_id, Person.blocked_at.is_(None))
        .values(blocked_at=now)
    )
    return bool(result.rowcount)


async def add_staff(session: AsyncSession, telegram_id: int, role: Role, name: str, now: datetime) -> Person:
    """Give a Telegram account a staff role (creating the person if they never wrote yet)."""
    if telegram_id <= 0:
        raise DomainError("staff_id")  # users have positive ids; groups and channels negative ones
    if role not in STAFF_ROLES:
        raise DomainError("staff_role")
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("staff_name")
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
        raise DomainError("not_staff")
    await _keep_an_admin(session, person)
    person.role = Role.REFUGEE
    person.staff_name = None
    # Their desk sessions, sign-in links and calendar feed end now (the desk re-checks the role on
    # every request as well).
    for model in (DeskSession, DeskSignIn, CalendarFeed):
        await session.execute(delete(model).where(model.person_id == person.id))
    return person


async def _other_staff_member(session: AsyncSession, actor_id: int, person_id: int) -> Person:
    if actor_id == person_id:
        raise DomainError("own_role")
    person = await session.get(Person, person_id)
    if person is None or not person.is_staff:
        raise DomainError("not_staff")
    return person


async def change_staff_role(
    session: AsyncSession, actor_id: int, person_id: int, role: Role, now: datetime
) -> Person:
    """An admin gives another staff member a different staff role (never their own)."""
    person = await _other_staff_member(session, actor_id, person_id)
    return await add_staff(
        session, person.telegram_id, role, person.staff_name or str(person.telegram_id), now
    )


async def remove_staff_member(session: AsyncSession, actor_id: int, person_id: int) -> Person:
    """An admin takes the staff role from another staff member (never from themself)."""
    person = await _other_staff_member(session, actor_id, person_id)
    return await remove_staff(session, person.telegram_id)


def has_role(person: Person, *roles: Role) -> bool:
    """Whether the person holds one of the given roles."""
    return person.role in roles
