"""Prometheus metrics, served on their own address (loopback by default), never on the desk's.

Hooked in from outside the journeys: a wrapper around the update processor (updates by kind and how
long each took), an extra error handler (errors by kind), a wrapper around the Bot API transport
(calls by method, 429s, the last time Telegram answered), a timer on the database pool (waits for a
connection) and, on every scrape, figures read from the database (reminders, dispatcher lag).
No label ever names or numbers a person: labels are update kinds, exception class names and Bot API
method names."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes
from telegram.request import BaseRequest, RequestData

from storage import health
from storage.db import SessionFactory, session_scope

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

log = logging.getLogger(__name__)
UPDATE_KINDS = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "inline_query",
    "chat_member",
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def update_kind(update: object) -> str:
    """What kind of update this is (``message``, ``callback_query``, …), never who sent it."""
    if isinstance(update, Update):
        for kind in UPDATE_KINDS:
            if getattr(update, kind, None) is not None:
                return kind
        return "other"
    return type(update).__name__


def api_method(url: str) -> str:
    """The Bot API method of a request URL (``…/bot<token>/sendMessage`` → ``sendMessage``); file
    downloads (whose URL holds a file path) are all ``file``."""
    last = url.rsplit("/", 1)[-1]
    return last if last.isalpha() and "/file/bot" not in url else "file"


class Metrics:
    """One application's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process
        self.updates = Counter(
            "wegweiser_updates", "Updates handled, by kind", ["kind"], registry=self.registry
        )
        self.latency = Histogram(
            "wegweiser_update_handling_seconds",
            "Time from the start of handling an update to its end, by kind",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "wegweiser_errors",
            "Errors that reached the error handler, by exception class",
            ["kind"],
            registry=self.registry,
        )
        self.api_calls = Counter(
            "wegweiser_bot_api_calls",
            "Bot API calls by method and outcome",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.api_429 = Counter(
            "wegweiser_bot_api_rate_limited",
            "Bot API calls answered with 429 (flood control)",
            ["method"],
            registry=self.registry,
        )
        self.pool_wait = Histogram(
            "wegweiser_db_pool_wait_seconds",
            "Time spent waiting for a database connection from the pool",
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0),
            registry=self.registry,
        )
        self.reminders = Gauge(
            "wegweiser_reminders",
            "Reminders in the database by status ('due': pending and due now)",
            ["status"],
            registry=self.registry,
        )
        self.dispatcher_lag = Gauge(
            "wegweiser_reminder_dispatcher_lag_seconds",
            "How long the oldest due reminder has been waiting to be sent (0 when none waits)",
            registry=self.registry,
        )
        self.last_telegram_contact = Gauge(
            "wegweiser_telegram_last_contact_timestamp_seconds",
            "When Telegram last answered a Bot API call (Unix time)",
            registry=self.registry,
        )
        self._last_contact: float | None = None

    def telegram_answered(self) -> None:
        self._last_contact = time.monotonic()
        self.last_telegram_contact.set(time.time())

    def seconds_since_telegram(self) -> float | None:
        """Seconds since Telegram last answered, ``None`` before the first answer."""
        return None if self._last_contact is None else time.monotonic() - self._last_contact

    # ---- hooks -------------------------------------------------------------------------------

    def observe_updates(self, processor: BaseUpdateProcessor) -> BaseUpdateProcessor:
        """The given update processor, counting and timing every update it processes."""
        return _TimedUpdateProcessor(processor, self)

    def instrument(self, application: Application) -> None:
        """Count errors and Bot API calls of a built application."""
        application.add_error_handler(self._count_error)
        bot = application.bot
        # PTB keeps the transports in ``Bot._request`` (getUpdates', everything else's); whichever
        # BaseRequest the builder made, it is wrapped the same way.
        bot._request = tuple(  # type: ignore[attr-defined]
            _CountingRequest(request, self)
            for request in bot._request  # type: ignore[attr-defined]
        )

    def time_pool(self, engine: AsyncEngine) -> None:
        """Record how long each checkout waits for a pooled connection."""
        pool = engine.sync_engine.pool
        get = pool._do_get  # the pool's own checkout, wrapped on this one instance

        def timed_get() -> Any:
            started = time.perf_counter()
            try:
                return get()
            finally:
                self.pool_wait.observe(time.perf_counter() - started)

        pool._do_get = timed_get  # type: ignore[method-assign]

    async def _count_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        self.errors.labels(type(error).__name__ if error is not None else "unknown").inc()

    # ---- exposition --------------------------------------------------------------------------

    async def refresh_from_database(self, sessions: SessionFactory) -> None:
        """Read the reminder figures (several instances share them: the database is the truth)."""
        async with session_scope(sessions) as session:
            figures = await health.reminder_figures(session, datetime.now(UTC))
        for status in ("pending", "sending", "sent", "dropped", "failed"):
            self.reminders.labels(status).set(figures.by_status.get(status, 0))
        self.reminders.labels("due").set(figures.due)
        self.dispatcher_lag.set(figures.lag_seconds)

    def web_app(self, sessions: SessionFactory) -> Starlette:
        """``/metrics`` for Prometheus (the web framework is loaded only when metrics are served)."""
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route

        async def metrics(_request: Request) -> Response:
            try:
                await asyncio.wait_for(self.refresh_from_database(sessions), timeout=5)
            except Exception as error:  # the process figures are still worth scraping
                log.warning("metrics: database figures unavailable: %s", type(error).__name__)
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return Starlette(routes=[Route("/metrics", metrics)])


class _TimedUpdateProcessor(BaseUpdateProcessor):
    """Delegates to the real processor (its concurrency rules stay as they are) and times each
    update's handling."""

    def __init__(self, inner: BaseUpdateProcessor, metrics: Metrics) -> None:
        super().__init__(inner.max_concurrent_updates)
        self._inner = inner
        self._metrics = metrics

    @property
    def current_concurrent_updates(self) -> int:
        return self._inner.current_concurrent_updates

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._inner.process_update(update, self._timed(update, coroutine))

    async def _timed(self, update: object, coroutine: Awaitable[Any]) -> None:
        kind = update_kind(update)
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            self._metrics.latency.labels(kind).observe(time.perf_counter() - started)
            self._metrics.updates.labels(kind).inc()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._inner.do_process_update(update, coroutine)

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()


class _CountingRequest(BaseRequest):
    """A Bot API transport that counts calls by method and outcome around the real one."""

    def __init__(self, inner: BaseRequest, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        name = api_method(url)
        try:
            code, payload = await self._inner.do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        except Exception:
            self._metrics.api_calls.labels(name, "network_error").inc()
            raise
        self._metrics.telegram_answered()
        if code == 429:
            self._metrics.api_429.labels(name).inc()
        outcome = "ok" if 200 <= code < 300 else "rate_limited" if code == 429 else f"http_{code // 100}xx"
        self._metrics.api_calls.labels(name, outcome).inc()
        return code, payload
