"""The gate's unit of work for every update: handle each update id once, and know the person.

One short transaction. The person is taken from :mod:`storage.person_cache` when it remembers
them (and then the claim alone may join a batch of claims, see :func:`remembered`); otherwise the
update id is claimed and the person created or refreshed (``last_seen``, no longer blocked, the
phone's language if none was chosen) with ``RETURNING`` — in one statement on PostgreSQL, in two
on SQLite (which has no data-modifying ``WITH``). ``last_seen`` is therefore refreshed at most
once per cache lifetime, which is far finer than anything that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import pending, person_cache, updates
from storage.db import SessionFactory
from storage.dialects import POSTGRESQL, dialect_name, upsert_insert
from storage.models import Person, ProcessedUpdate, Role
from storage.pending import Waiting
from storage.person_cache import KnownPerson


@dataclass(frozen=True)
class Admission:
    """The person behind an admitted update, and what the bot waits for them to type (if asked)."""

    person: KnownPerson
    waiting: Waiting | None = None


async def admit(
    session: AsyncSession,
    update_id: int,
    telegram_id: int,
    now: datetime,
    phone_language: str | None,
    *,
    read_waiting: bool = False,
) -> Admission | None:
    """Claim the update and load (or create) its person; ``None`` when the update was seen before.
    With ``read_waiting`` the open question the person may be answering is read in the same
    transaction."""
    cache = person_cache.cache_for(session)
    person = _known_enough(cache.get(telegram_id), phone_language)
    if person is not None:
        if not await updates.claim_update(session, update_id, now):
            return None
    else:
        person = await _claim_and_upsert(session, update_id, telegram_id, now, phone_language)
        if person is None:
            return None
        cache.put(person)
    waiting = await pending.waiting_for(session, person.id, now) if read_waiting else None
    return Admission(person, waiting)


def remembered(sessions: SessionFactory, telegram_id: int, phone_language: str | None) -> KnownPerson | None:
    """The person as the cache remembers them, when that is all the gate needs: then the update only
    has to be claimed (``storage.claim_batches``), and nothing about the person written."""
    cache = person_cache.cache_for_sessions(sessions)
    return _known_enough(cache.get(telegram_id), phone_language) if cache is not None else None


def _known_enough(person: KnownPerson | None, phone_language: str | None) -> KnownPerson | None:
    # Someone without a chosen language whose phone now says one: the phone's is saved first.
    if person is None or (person.language is None and phone_language is not None):
        return None
    return person


async def _claim_and_upsert(
    session: AsyncSession, update_id: int, telegram_id: int, now: datetime, phone_language: str | None
) -> KnownPerson | None:
    dialect = dialect_name(session)
    postgres = dialect == POSTGRESQL
    insert = upsert_insert(dialect)
    values = {
        "telegram_id": literal(telegram_id),
        "role": literal(str(Role.REFUGEE)),
        "first_seen": literal(now, Person.first_seen.type),
        "last_seen": literal(now, Person.last_seen.type),
        "language": literal(phone_language, Person.language.type),
    }
    if postgres:
        claimed = (
            updates.claim_statement(insert, update_id, now)
            .returning(ProcessedUpdate.update_id)
            .cte("claimed")
        )
        upsert = insert(Person).from_select(
            list(values), select(*(value.label(name) for name, value in values.items())).select_from(claimed)
        )
        upsert = upsert.add_cte(claimed)
    else:
        if not await updates.claim_update(session, update_id, now):
            return None
        upsert = insert(Person).values(values)
    upsert = upsert.on_conflict_do_update(
        index_elements=["telegram_id"],
        set_={
            "last_seen": upsert.excluded.last_seen,
            "blocked_at": None,
            "not_started_at": None,  # writing to the bot is starting it
            "language": func.coalesce(Person.language, upsert.excluded.language),
        },
    ).returning(Person.id, Person.telegram_id, Person.language, Person.role)
    row = (await session.execute(upsert, execution_options={"synchronize_session": False})).first()
    if row is None:
        return None
    return KnownPerson(row.id, row.telegram_id, row.language, row.role)
