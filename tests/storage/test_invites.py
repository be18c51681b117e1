"""Staff invitations, on SQLite and PostgreSQL: single use, expiry, only hashes stored, and an
invitation never takes a role away."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import invites, people
from storage.db import SessionFactory, session_scope
from storage.models import Person, Role, StaffInvite

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def admin_and_newcomer(sessions: SessionFactory) -> tuple[int, int]:
    async with session_scope(sessions) as session:
        boss = await people.add_staff(session, 500, Role.ADMIN, "Jonas Admin", NOW)
        newcomer = await people.ensure_person(session, 501, NOW)
        return boss.id, newcomer.id


async def person(sessions: SessionFactory, person_id: int) -> Person:
    async with sessions() as session:
        found = await session.get(Person, person_id)
        assert found is not None
        return found


async def test_an_invitation_grants_its_role_and_name_once(sessions: SessionFactory) -> None:
    admin_id, newcomer_id = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        token = await invites.create_invite(session, admin_id, Role.ADVISOR, "  Anna Berger ", NOW)

    async with session_scope(sessions) as session:
        granted = await invites.redeem_invite(session, token, newcomer_id, NOW + timedelta(days=6))
    async with session_scope(sessions) as session:
        other = await people.ensure_person(session, 502, NOW)
        again = await invites.redeem_invite(session, token, other.id, NOW + timedelta(days=6))

    assert granted is not None and again is None
    newcomer = await person(sessions, newcomer_id)
    assert (newcomer.role, newcomer.staff_name) == (Role.ADVISOR, "Anna Berger")
    async with sessions() as session:
        stored = (await session.scalars(select(StaffInvite))).one()
    assert token not in (stored.token_hash, stored.name), "only a hash of the token is stored"
    assert (stored.used_by, stored.used_at) == (newcomer_id, NOW + timedelta(days=6))


async def test_an_expired_or_unknown_invitation_grants_nothing(sessions: SessionFactory) -> None:
    admin_id, newcomer_id = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        token = await invites.create_invite(session, admin_id, Role.ADMIN, "Late Larry", NOW)

    async with session_scope(sessions) as session:
        expired = await invites.redeem_invite(session, token, newcomer_id, NOW + invites.INVITE_VALID)
        unknown = await invites.redeem_invite(session, "not-a-token", newcomer_id, NOW)

    assert expired is None and unknown is None
    assert (await person(sessions, newcomer_id)).role == Role.REFUGEE


async def test_an_invitation_of_an_admin_who_left_grants_nothing(sessions: SessionFactory) -> None:
    admin_id, newcomer_id = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        token = await invites.create_invite(session, admin_id, Role.ADMIN, "Eve", NOW)
        await people.add_staff(session, 502, Role.ADMIN, "Lea", NOW)  # someone stays admin
        await people.remove_staff(session, 500)

    async with session_scope(sessions) as session:
        assert await invites.redeem_invite(session, token, newcomer_id, NOW) is None
    assert (await person(sessions, newcomer_id)).role == Role.REFUGEE


async def test_an_admin_opening_an_advisor_invitation_stays_admin(sessions: SessionFactory) -> None:
    admin_id, _ = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        token = await invites.create_invite(session, admin_id, Role.ADVISOR, "Jonas Admin", NOW)
        await invites.redeem_invite(session, token, admin_id, NOW)

    assert (await person(sessions, admin_id)).role == Role.ADMIN


async def test_only_admins_invite_and_the_role_and_name_are_checked(sessions: SessionFactory) -> None:
    admin_id, newcomer_id = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        with pytest.raises(invites.NotAllowed):
            await invites.create_invite(session, newcomer_id, Role.ADVISOR, "Mallory", NOW)
        with pytest.raises(invites.InvalidInvite) as role:
            await invites.create_invite(session, admin_id, Role.REFUGEE, "Someone", NOW)
        with pytest.raises(invites.InvalidInvite) as name:
            await invites.create_invite(session, admin_id, Role.ADVISOR, " " * 3, NOW)
    assert (role.value.reason, name.value.reason) == ("role", "name")


async def test_two_people_opening_one_link_at_once_make_one_staff_member(sessions: SessionFactory) -> None:
    admin_id, first_id = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        second_id = (await people.ensure_person(session, 503, NOW)).id
        token = await invites.create_invite(session, admin_id, Role.ADVISOR, "Anna", NOW)

    async def redeem(person_id: int) -> bool:
        async with session_scope(sessions) as session:
            return await invites.redeem_invite(session, token, person_id, NOW) is not None

    results = await asyncio.gather(redeem(first_id), redeem(second_id), return_exceptions=True)

    assert sum(result is True for result in results) == 1, results
    roles = [(await person(sessions, person_id)).role for person_id in (first_id, second_id)]
    assert sorted(roles) == [Role.ADVISOR, Role.REFUGEE]


async def test_open_invitations_can_be_withdrawn(sessions: SessionFactory) -> None:
    admin_id, newcomer_id = await admin_and_newcomer(sessions)
    async with session_scope(sessions) as session:
        token = await invites.create_invite(session, admin_id, Role.ADVISOR, "Anna", NOW)
        await invites.create_invite(session, admin_id, Role.ADVISOR, "Old", NOW - timedelta(days=8))
    async with sessions() as session:
        (waiting,) = await invites.open_invites(session, NOW)
    assert waiting.name == "Anna"

    async with session_scope(sessions) as session:
        assert await invites.withdraw_invite(session, admin_id, waiting.id)
    async with session_scope(sessions) as session:
        assert await invites.redeem_invite(session, token, newcomer_id, NOW) is None
        assert await invites.open_invites(session, NOW) == []
