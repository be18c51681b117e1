"""People and staff roles, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage import people, updates
from storage.db import SessionFactory, session_scope
from storage.errors import DomainError
from storage.models import Person, ProcessedUpdate, Role

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Germany moves to summer time


async def count(sessions: SessionFactory, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_first_contact_creates_a_refugee_and_later_contact_updates_last_seen(
    sessions: SessionFactory,
) -> None:
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, 777, NOW)
        assert (person.role, person.language, person.first_seen) == (Role.REFUGEE, None, NOW)
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, 777, NOW + timedelta(hours=3))
    async with sessions() as session:
        stored = await people.person_by_telegram_id(session, 777)
    assert stored is not None
    assert stored.first_seen == NOW, "times come back aware and in UTC on every database"
    assert stored.last_seen == NOW + timedelta(hours=3)
    assert await count(sessions, Person) == 1


async def test_twenty_simultaneous_first_contacts_of_one_person_create_one_row(
    sessions: SessionFactory,
) -> None:
    async def contact() -> int:
        async with session_scope(sessions) as session:
            return (await people.ensure_person(session, 4242, NOW)).id

    ids = await asyncio.gather(*(contact() for _ in range(20)))

    assert len(set(ids)) == 1
    assert await count(sessions, Person) == 1


async def test_an_update_id_is_claimed_once_even_when_raced(sessions: SessionFactory) -> None:
    async def claim() -> bool:
        async with session_scope(sessions) as session:
            return await updates.claim_update(session, 99, NOW)

    results = await asyncio.gather(*(claim() for _ in range(20)))

    assert results.count(True) == 1
    assert await count(sessions, ProcessedUpdate) == 1


async def test_old_update_ids_are_forgotten(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await updates.claim_update(session, 1, NOW - timedelta(days=3))
        await updates.claim_update(session, 2, NOW - timedelta(hours=1))
    async with session_scope(sessions) as session:
        assert await updates.forget_old_updates(session, NOW) == 1
    async with session_scope(sessions) as session:
        assert not await updates.claim_update(session, 2, NOW), "recent ids are still remembered"


async def test_blocking_is_recorded_once_and_cleared_by_the_next_message(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await people.ensure_person(session, 5, NOW)
    async with session_scope(sessions) as session:
        assert await people.mark_blocked(session, 5, NOW)
        assert not await people.mark_blocked(session, 5, NOW + timedelta(minutes=1))
        assert not await people.mark_blocked(session, 6, NOW), "unknown people are not created"
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, 5, NOW + timedelta(days=1))
        assert person.blocked_at is None


async def test_staff_are_added_listed_and_removed(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await people.ensure_person(session, 10, NOW)
        await people.add_staff(session, 10, Role.ADVISOR, "  Anna Berger ", NOW)
        await people.add_staff(session, 11, Role.ADMIN, "Jonas", NOW)
    async with sessions() as session:
        staff = [(p.telegram_id, p.role, p.staff_name) for p in await people.list_staff(session)]
    assert staff == [(11, "admin", "Jonas"), (10, "advisor", "Anna Berger")]

    async with session_scope(sessions) as session:
        removed = await people.remove_staff(session, 10)
        assert (removed.role, removed.staff_name) == (Role.REFUGEE, None)
    async with session_scope(sessions) as session:
        with pytest.raises(DomainError, match="not_staff"):
            await people.remove_staff(session, 10)
    async with sessions() as session:
        assert [p.telegram_id for p in await people.list_staff(session)] == [11]


@pytest.mark.parametrize(
    ("telegram_id", "role", "name", "reason"),
    [
        (12, Role.REFUGEE, "Anna", "staff_role"),
        (12, Role.ADVISOR, "", "staff_name"),
        (12, Role.ADMIN, "x" * 101, "staff_name"),
        (0, Role.ADVISOR, "Anna", "staff_id"),
        (-1001234567890, Role.ADMIN, "A group", "staff_id"),
    ],
)
async def test_staff_need_a_user_id_a_staff_role_and_a_sensible_name(
    sessions: SessionFactory, telegram_id: int, role: Role, name: str, reason: str
) -> None:
    async with session_scope(sessions) as session:
        with pytest.raises(DomainError) as refused:
            await people.add_staff(session, telegram_id, role, name, NOW)
    assert refused.value.reason == reason
    assert await count(sessions, Person) == 0


async def test_the_database_refuses_an_unknown_role(sessions: SessionFactory) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with session_scope(sessions) as session:
            session.add(Person(telegram_id=13, role="superuser", first_seen=NOW, last_seen=NOW))
    assert await count(sessions, Person) == 0


async def test_a_naive_datetime_is_refused_rather_than_guessed(sessions: SessionFactory) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError):
        async with session_scope(sessions) as session:
            await people.ensure_person(session, 14, datetime(2026, 3, 29, 2, 30))


async def test_the_last_admin_keeps_the_role(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await people.add_staff(session, 20, Role.ADMIN, "Jonas", NOW)
    async with session_scope(sessions) as session:
        with pytest.raises(DomainError, match="last_admin"):
            await people.remove_staff(session, 20)
        with pytest.raises(DomainError, match="last_admin"):
            await people.add_staff(session, 20, Role.ADVISOR, "Jonas", NOW)
    async with session_scope(sessions) as session:
        await people.add_staff(session, 21, Role.ADMIN, "Lea", NOW)
        await people.remove_staff(session, 20)
    async with sessions() as session:
        assert [(p.telegram_id, p.role) for p in await people.list_staff(session)] == [(21, "admin")]


async def test_admins_change_and_remove_other_staff_but_never_their_own_role(
    sessions: SessionFactory,
) -> None:
    async with session_scope(sessions) as session:
        jonas = await people.add_staff(session, 30, Role.ADMIN, "Jonas", NOW)
        lea = await people.add_staff(session, 31, Role.ADMIN, "Lea", NOW)
        anna = await people.add_staff(session, 32, Role.ADVISOR, "Anna", NOW)
    async with session_scope(sessions) as session:
        for attempt in (
            people.change_staff_role(session, jonas.id, jonas.id, Role.ADVISOR, NOW),
            people.remove_staff_member(session, jonas.id, jonas.id),
        ):
            with pytest.raises(DomainError, match="own_role"):
                await attempt
        with pytest.raises(DomainError, match="not_staff"):
            await people.change_staff_role(session, jonas.id, 999_999, Role.ADVISOR, NOW)
    async with session_scope(sessions) as session:
        await people.change_staff_role(session, jonas.id, anna.id, Role.ADMIN, NOW)
        await people.remove_staff_member(session, jonas.id, lea.id)
    async with sessions() as session:
        staff = [(p.telegram_id, p.role) for p in await people.list_staff(session)]
    assert staff == [(32, "admin"), (30, "admin")]
