"""The gate's transaction: each update once, the person created or refreshed in one go, and the
short-lived person cache forgotten whenever this process changes the person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import admission, pending, people, person_cache
from storage.db import SessionFactory, session_scope
from storage.models import Person, Role

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_cached_people() -> None:
    """The PostgreSQL tests share one database, emptied between tests behind the cache's back."""
    person_cache.forget_everyone()


async def admit(
    sessions: SessionFactory,
    update_id: int,
    *,
    phone: str | None = "uk",
    now: datetime = NOW,
    read_waiting: bool = False,
) -> admission.Admission | None:
    async with session_scope(sessions) as session:
        return await admission.admit(session, update_id, 777, now, phone, read_waiting=read_waiting)


async def stored(sessions: SessionFactory, telegram_id: int = 777) -> Person:
    async with sessions() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
        assert person is not None
        return person


async def test_first_contact_creates_the_person_with_the_phone_language(sessions: SessionFactory) -> None:
    admitted = await admit(sessions, 1)
    assert admitted is not None
    assert (admitted.person.language, admitted.person.role) == ("uk", Role.REFUGEE)
    person = await stored(sessions)
    assert (person.id, person.language, person.first_seen) == (admitted.person.id, "uk", NOW)


async def test_an_update_seen_before_is_not_admitted_again(sessions: SessionFactory) -> None:
    assert await admit(sessions, 1) is not None
    assert await admit(sessions, 1) is None
    async with sessions() as session:
        person_cache_entry = person_cache.cache_for(session)
    person_cache_entry.clear()
    assert await admit(sessions, 1) is None  # also when the person has to be loaded again


async def test_a_chosen_language_wins_over_the_phone_and_a_message_unblocks(sessions: SessionFactory) -> None:
    await admit(sessions, 1)
    async with session_scope(sessions) as session:
        person = await people.person_by_telegram_id(session, 777)
        assert person is not None
        await people.set_language(session, person, "ar")
        await people.mark_blocked(session, 777, NOW)
    admitted = await admit(sessions, 2, phone="de", now=NOW + timedelta(hours=1))
    assert admitted is not None and admitted.person.language == "ar"
    person = await stored(sessions)
    assert person.blocked_at is None and person.last_seen == NOW + timedelta(hours=1)


async def test_a_role_given_in_this_process_is_seen_by_the_next_update(sessions: SessionFactory) -> None:
    await admit(sessions, 1)
    async with session_scope(sessions) as session:
        await people.add_staff(session, 777, Role.ADVISOR, "Olena Koval", NOW)
    admitted = await admit(sessions, 2)
    assert admitted is not None and admitted.person.role == Role.ADVISOR


async def test_a_cached_person_costs_no_person_statement(sessions: SessionFactory) -> None:
    first = await admit(sessions, 1)
    second = await admit(sessions, 2, now=NOW + timedelta(seconds=5))
    assert first is not None and second is not None and second.person == first.person
    assert (await stored(sessions)).last_seen == NOW  # refreshed when the cache entry is renewed


async def test_typed_text_reads_the_open_question_in_the_same_transaction(sessions: SessionFactory) -> None:
    admitted = await admit(sessions, 1)
    assert admitted is not None
    async with session_scope(sessions) as session:
        await pending.wait_for_text(session, admitted.person.id, "hours", {"day": 1}, NOW)
    answer = await admit(sessions, 2, read_waiting=True)
    assert answer is not None and answer.waiting == pending.Waiting("hours", {"day": 1})
    other = await admit(sessions, 3)
    assert other is not None and other.waiting is None
