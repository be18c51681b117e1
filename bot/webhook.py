"""Webhook mode: Telegram posts each update to ``WEGWEISER_WEBHOOK_URL``; any number of identical
instances behind a load balancer receive them on the desk's web server (PTB's custom-webhook
pattern: the route hands the update to the Application's queue).

When Telegram gets its 200: after the update is recorded in the database (``storage.updates``),
not after it is handled. A crash before the record commits means no 200, so Telegram delivers the
update again, to whichever instance; a crash after it leaves the update in the shared inbox, where
the instance itself or another one finds it (``take_stranded``). The record's unique update id makes
a redelivery a no-op, so neither path handles an update twice. Answering only after handling would
hold one of Telegram's few connections for as long as a handler runs, and a redelivery could then
reach another instance while the first is still working on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import NetworkError
from telegram.ext import Application, BaseUpdateProcessor

from storage import updates
from storage.db import SessionFactory, session_scope

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates are small JSON documents; Telegram's largest (a long message with entities) stay far below.
MAX_BODY_BYTES = 256 * 1024
# At most this many requests from Telegram at once, per bot (Telegram allows 1 to 100; 40 is its default).
MAX_CONNECTIONS = 40
SET_WEBHOOK_ATTEMPTS = 5
STRANDED_AFTER = timedelta(seconds=10)
STRANDED_JOB = "webhook-stranded-updates"
# How long a waiting update sleeps before asking again (a turn ending in this instance wakes it sooner).
TURN_POLL_SECONDS = (0.02, 0.05, 0.1, 0.2)
# Beyond this an update is handled even if the person's earlier one never finished.
MAX_TURN_WAIT = updates.TURN_LEASE + STRANDED_AFTER * 2


def utc_now() -> datetime:
    return datetime.now(UTC)


def webhook_path(url: str) -> str:
    """The path of the webhook URL, which the load balancer forwards unchanged."""
    return urlsplit(url).path or "/"


def person_key(update: Update) -> int | None:
    """Whose update this is: the person (or else the chat) it comes from."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


def webhook_route(path: str, application: Application, secret: str, sessions: SessionFactory) -> Route:
    """The endpoint Telegram posts to: refuses what lacks the secret (403) or is not an update (400),
    records the update and hands it to the Application."""
    # Starlette is loaded with the web server that serves this route, not when the bot starts.
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return PlainTextResponse("forbidden", status_code=403)
        body = await _read_limited(request)
        if body is None:
            return PlainTextResponse("bad request", status_code=400)
        update = _parse_update(body, application)
        if update is None:
            return PlainTextResponse("bad request", status_code=400)
        if not application.running:
            # Stopping or not yet started: Telegram delivers it again, to this or another instance.
            return PlainTextResponse("not ready", status_code=503)
        async with session_scope(sessions) as session:
            recorded = await updates.record_update(
                session, update.update_id, person_key(update), body.decode(), utc_now()
            )
        if recorded:
            hand_over(application, update)
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"])


def hand_over(application: Application, update: Update) -> None:
    """Queue a recorded update for handling, unless the instance began stopping meanwhile (what is
    queued after that is never handled; the update stays recorded and another instance takes it)."""
    if application.running:
        application.update_queue.put_nowait(update)


async def _read_limited(request: Request) -> bytes | None:
    """The body, or ``None`` when it is larger than ``MAX_BODY_BYTES`` or the sender went away."""
    from starlette.requests import ClientDisconnect

    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return None
    return b"".join(chunks)


def _parse_update(body: bytes, application: Application) -> Update | None:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        return Update.de_json(data, application.bot)
    except (AttributeError, KeyError, TypeError, ValueError):  # a field of the wrong shape
        return None


async def set_webhook(bot: Bot, url: str, secret: str, allowed_updates: Sequence[str]) -> None:
    """Tell Telegram where to post updates. Every instance sets the same webhook at start (Telegram
    keeps the last, which is identical); a network hiccup is retried before the start fails."""
    for attempt in range(SET_WEBHOOK_ATTEMPTS):
        try:
            await bot.set_webhook(
                url, secret_token=secret, allowed_updates=allowed_updates, max_connections=MAX_CONNECTIONS
            )
            return
        except NetworkError:
            if attempt + 1 == SET_WEBHOOK_ATTEMPTS:
                raise
            log.warning("setWebhook failed; trying again")
            await asyncio.sleep(2**attempt)


class PersonTurns(BaseUpdateProcessor):
    """Wraps the instance's update processor: before a webhook update is handled, wait until it is
    the person's turn across all instances (``updates.take_turn``), and end the turn afterwards.

    Why this and not a PostgreSQL advisory lock per person: a lock orders nothing (a later update may
    grab it first) and pins a pooled connection for as long as a handler runs; the turn is decided by
    update id in one conditional UPDATE on the shared inbox, holds no connection, and lapses on its
    own when the instance holding it dies."""

    def __init__(self, inner: BaseUpdateProcessor, sessions: SessionFactory, running: Callable[[], bool]):
        # Waiting for a turn is cheap; the inner processor bounds how many updates are handled at once.
        super().__init__(max(256, inner.max_concurrent_updates))
        self._inner = inner
        self._sessions = sessions
        self._running = running
        self._turn_ended = asyncio.Condition()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await self._inner.process_update(update, coroutine)
            return
        if not await self._wait_for_turn(update):
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # handled already: never started, so nothing to clean up
            return
        try:
            await self._inner.process_update(update, coroutine)
        finally:
            async with session_scope(self._sessions) as session:
                await updates.end_turn(session, update.update_id)
            async with self._turn_ended:
                self._turn_ended.notify_all()  # a waiter here need not wait for its next poll

    async def _wait_for_turn(self, update: Update) -> bool:
        """``True`` when this instance should handle the update now, ``False`` when it is done or
        left to another instance: an instance that is stopping does not wait for turns, the
        recorded update is picked up elsewhere as stranded."""
        key = person_key(update)
        started = time.monotonic()
        attempt = 0
        while True:
            async with session_scope(self._sessions) as session:
                turn = await updates.take_turn(session, update.update_id, key, utc_now())
            if turn is updates.Turn.TAKEN:
                return True
            if turn is updates.Turn.DONE or not self._running():
                return False
            if time.monotonic() - started > MAX_TURN_WAIT.total_seconds():
                log.warning("update %s waited too long for its turn; handled now", update.update_id)
                return True
            async with self._turn_ended:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._turn_ended.wait(), TURN_POLL_SECONDS[min(attempt, len(TURN_POLL_SECONDS) - 1)]
                    )
            attempt += 1

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()


async def requeue_stranded(application: Application, sessions: SessionFactory) -> int:
    """Hand recorded updates that nobody started to this instance's queue; returns how many. A
    stopping instance takes none: what it puts in its queue after stopping began is never handled."""
    if not application.running:
        return 0
    async with session_scope(sessions) as session:
        payloads = await updates.take_stranded(session, utc_now(), STRANDED_AFTER)
    for payload in payloads:
        hand_over(application, Update.de_json(json.loads(payload), application.bot))
    if payloads:
        log.info("picked up %s updates another instance had recorded but not started", len(payloads))
    return len(payloads)


@contextlib.asynccontextmanager
async def serving_webhook(application: Application) -> AsyncIterator[Application]:
    """Run the Application without an updater (the web server started in ``post_init`` receives the
    updates) and shut it down afterwards; stopping handles every update already received."""
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        try:
            yield application
        finally:
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def run_webhook(application: Application) -> None:
    """``wegweiser run`` in webhook mode: serve until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with serving_webhook(application):
        await stop.wait()
