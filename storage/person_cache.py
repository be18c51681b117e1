"""A short-lived, in-process memory of who is behind a Telegram id, so the gate does not have to
load the person for every update.

One cache per database. An entry lives :data:`LIFETIME` at most. Every change this process makes
to a person forgets the entry at once and again after its commit (so a gate that read the old row
meanwhile cannot keep it): changes through the ORM (role, language) are noticed at flush; bulk
statements (blocking, deletion) call :func:`forget_after_commit`. A change made by another process (the
``wegweiser`` command line, another instance behind the load balancer) is not announced: it
reaches this process when the entry expires, at most :data:`LIFETIME` later.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.models import Person

LIFETIME = 30.0  # seconds
MAX_ENTRIES = 50_000
_FORGET_AFTER_COMMIT = "person_cache_forget"


@dataclass(frozen=True)
class KnownPerson:
    """What the gate needs to know about a person."""

    id: int
    telegram_id: int
    language: str | None
    role: str


class PersonCache:
    """Telegram id → :class:`KnownPerson`, each entry for :data:`LIFETIME` seconds."""

    def __init__(self, lifetime: float = LIFETIME) -> None:
        self.lifetime = lifetime
        self._entries: dict[int, tuple[float, KnownPerson]] = {}

    def get(self, telegram_id: int) -> KnownPerson | None:
        """The remembered person, unless the entry is older than the lifetime."""
        entry = self._entries.get(telegram_id)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.lifetime:
            del self._entries[telegram_id]
            return None
        return entry[1]

    def put(self, person: KnownPerson) -> None:
        """Remember the person as just read from the database."""
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[person.telegram_id] = (time.monotonic(), person)

    def forget(self, telegram_id: int) -> None:
        """Drop what is remembered about this Telegram id."""
        self._entries.pop(telegram_id, None)

    def clear(self) -> None:
        """Forget everyone."""
        self._entries.clear()


_caches: dict[str, PersonCache] = {}


def _database(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.url)


def cache_for(session: AsyncSession) -> PersonCache:
    """The cache of the database ``session`` works on."""
    return _caches.setdefault(_database(session.sync_session), PersonCache())


def cache_for_sessions(sessions: async_sessionmaker[AsyncSession]) -> PersonCache | None:
    """The cache of the database the factory's sessions work on (``None`` for a factory without
    one engine to go by)."""
    bind = sessions.kw.get("bind")
    return _caches.setdefault(str(bind.url), PersonCache()) if isinstance(bind, AsyncEngine) else None


def _forget(session: Session, telegram_id: int) -> None:
    cache = _caches.get(_database(session))
    if cache is not None:
        cache.forget(telegram_id)
    session.info.setdefault(_FORGET_AFTER_COMMIT, set()).add(telegram_id)


def forget_everyone() -> None:
    """Forget every cached person of every database (after emptying a database behind the
    process's back, as the tests do between PostgreSQL tests)."""
    _caches.clear()


def forget_after_commit(session: AsyncSession, telegram_id: int) -> None:
    """The person is being changed in ``session``: forget them now and once more after the commit."""
    _forget(session.sync_session, telegram_id)


@event.listens_for(Session, "before_flush")
def _forget_changed(session: Session, _context: Any, _instances: Any) -> None:
    for changed in (*session.dirty, *session.deleted):
        if isinstance(changed, Person):
            _forget(session, changed.telegram_id)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    forgotten = session.info.pop(_FORGET_AFTER_COMMIT, ())
    cache = _caches.get(_database(session)) if forgotten else None
    for telegram_id in forgotten if cache is not None else ():
        cache.forget(telegram_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Any) -> None:
    session.info.pop(_FORGET_AFTER_COMMIT, None)
