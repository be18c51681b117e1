"""Desk access housekeeping, on SQLite and PostgreSQL: sign-in links are limited per staff member,
and what can no longer open anything (expired links, idle sessions, expired invitations) is purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage import desk_access, invites, people
from storage.db import SessionFactory, session_scope
from storage.models import DeskSession, DeskSignIn, Role, StaffInvite

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def staff(sessions: SessionFactory) -> tuple[int, int]:
    async with session_scope(sessions) as session:
        admin = await people.add_staff(session, 700, Role.ADMIN, "Jonas Admin", NOW)
        advisor = await people.add_staff(session, 701, Role.ADVISOR, "Anna Berger", NOW)
        return admin.id, advisor.id


async def count(sessions: SessionFactory, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_staff_member_gets_five_links_in_ten_minutes(sessions: SessionFactory) -> None:
    admin_id, advisor_id = await staff(sessions)
    for minute in range(5):
        async with session_scope(sessions) as session:
            await desk_access.issue_sign_in(session, advisor_id, NOW + timedelta(minutes=minute))

    with pytest.raises(desk_access.TooManySignIns) as limited:
        async with session_scope(sessions) as session:
            await desk_access.issue_sign_in(session, advisor_id, NOW + timedelta(minutes=6))
    async with session_scope(sessions) as session:
        other = await desk_access.issue_sign_in(session, admin_id, NOW + timedelta(minutes=6))
    async with session_scope(sessions) as session:  # the first link of the five has left the window
        again = await desk_access.issue_sign_in(session, advisor_id, NOW + timedelta(minutes=10, seconds=1))

    assert limited.value.retry_after == timedelta(minutes=4)
    assert other and again


async def test_expired_links_idle_sessions_and_expired_invitations_are_purged(
    sessions: SessionFactory,
) -> None:
    admin_id, advisor_id = await staff(sessions)
    async with session_scope(sessions) as session:
        old_link = await desk_access.issue_sign_in(session, advisor_id, NOW)
        await desk_access.issue_sign_in(session, admin_id, NOW)
        await invites.create_invite(session, admin_id, Role.ADVISOR, "Old Invite", NOW)
    async with session_scope(sessions) as session:
        opened = await desk_access.redeem_sign_in(session, old_link, NOW + timedelta(minutes=1))
        assert opened is not None
    later = NOW + timedelta(days=7, minutes=1)
    async with session_scope(sessions) as session:
        fresh_link = await desk_access.issue_sign_in(session, advisor_id, later)
        await invites.create_invite(session, admin_id, Role.ADMIN, "New Invite", later)
        active = await desk_access.redeem_sign_in(session, fresh_link, later)
        assert active is not None
        await desk_access.issue_sign_in(session, advisor_id, later)

    async with session_scope(sessions) as session:
        purged = await desk_access.purge_expired(session, later)
        invitations = await invites.purge_expired(session, later)

    assert (purged.sign_ins, purged.sessions, invitations) == (2, 1, 1)
    assert await count(sessions, DeskSignIn) == 2
    assert await count(sessions, DeskSession) == 1
    async with sessions() as session:
        assert (await session.scalars(select(StaffInvite.name))).all() == ["New Invite"]
        assert await desk_access.signed_in(session, active.token, later) is not None
