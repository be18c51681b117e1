"""Update processing that runs different people's updates concurrently but each person's in order."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` at once, never two of the same person at the same time
    (a double tap on 'confirm' is then handled one after the other, never interleaved).

    A person's lock is taken before one of the shared slots: someone sending a burst waits on
    their own lock, so their queued updates never hold the slots everyone else needs."""

    def __init__(self, max_concurrent_updates: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """The person's turn first, then a shared slot, then the update."""
        key = _person_key(update)
        if key is None:
            async with self._slots:
                await self.do_process_update(update, coroutine)
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock, self._slots:
            await self.do_process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _person_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None
