"""Start-up work that long polling does not wait for.

``wegweiser run`` asks Telegram for updates as soon as the database is ready and the jobs are
scheduled. What people do not need before that follows once the application runs: the command menus
in every language (eleven Bot API calls) and the web servers (the desk's code with Starlette, Jinja2
and uvicorn takes about a fifth of a second to load). ``bot.app`` binds the servers' ports before
polling starts, so a taken port still stops the bot before it asks for updates. When the later work
fails, ``run_polling`` stops the bot and raises the error, as if it had failed before polling;
``polling`` (demo, tests, benchmarks) waits for the work before it hands over the running bot.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable

from telegram.ext import Application

_work: weakref.WeakKeyDictionary[Application, list[asyncio.Task[None]]] = weakref.WeakKeyDictionary()
_stop_on_failure: weakref.WeakSet[Application] = weakref.WeakSet()
RUNNING_CHECK_SECONDS = 0.01


def once_running(application: Application, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` in the background as soon as ``application`` runs (``run_polling`` starts the
    application right after polling has begun). Several pieces of work run side by side."""
    task = asyncio.create_task(_when_running(application, work), name="wegweiser:once-running")
    _work.setdefault(application, []).append(task)


async def _when_running(application: Application, work: Callable[[], Awaitable[None]]) -> None:
    while not application.running:
        await asyncio.sleep(RUNNING_CHECK_SECONDS)
    try:
        await work()
    except Exception:
        if application in _stop_on_failure:
            application.stop_running()
        raise


def stop_on_failure(application: Application) -> None:
    """Let a failure of the work stop ``application`` (for PTB's ``run_polling``, which then returns)."""
    _stop_on_failure.add(application)


async def finished(application: Application) -> None:
    """Wait for all work of ``application``, raising the first failure."""
    for task in _work.get(application, []):
        await task


async def cancel(application: Application) -> None:
    """Stop waiting for work that has not begun or finished (the application is shutting down)."""
    unfinished = [task for task in _work.get(application, []) if not task.done()]
    for task in unfinished:
        task.cancel()
    if unfinished:
        await asyncio.wait(unfinished)


def raise_failure(application: Application) -> None:
    """Raise what the work raised, if a piece of it failed."""
    for task in _work.get(application, []):
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
