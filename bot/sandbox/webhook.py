"""Webhook delivery as Telegram does it: each pending update is POSTed to the webhook URL with the
secret header; anything but a 2xx answer (or no answer within the timeout) is delivered again after
a growing delay; at most ``max_connections`` requests are in flight; and one person's next update
waits until the previous one was accepted, so each chat's updates arrive in order.

Telegram wants a public HTTPS URL; the sandbox also accepts plain http on a loopback address, and it
never posts anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bot.sandbox.rules import bad_request

if TYPE_CHECKING:
    from bot.sandbox.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_MAX_CONNECTIONS = 40


@dataclass
class WebhookSettings:
    """What ``setWebhook`` configured."""

    url: str
    secret: str | None
    max_connections: int
    allowed_updates: list[str] | None


@dataclass
class DeliveryLog:
    """What happened to each update: attempts, acceptances and the last error (for getWebhookInfo)."""

    attempts: dict[int, int] = field(default_factory=dict)
    accepted: dict[int, int] = field(default_factory=dict)
    most_in_flight: int = 0
    last_error_date: int | None = None
    last_error_message: str | None = None


def webhook_settings(params: dict[str, Any]) -> WebhookSettings:
    """Check ``setWebhook``'s parameters as Telegram does."""
    url = str(params.get("url") or "")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if parts.hostname not in LOOPBACK_HOSTS:
        raise bad_request("bad webhook: the sandbox delivers only to loopback addresses")
    secret = params.get("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    try:
        max_connections = int(params.get("max_connections") or DEFAULT_MAX_CONNECTIONS)
    except (TypeError, ValueError):
        raise bad_request("bad webhook: max_connections must be a number") from None
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get("allowed_updates")
    return WebhookSettings(
        url, str(secret) if secret is not None else None, max_connections, list(allowed) if allowed else None
    )


class WebhookDelivery:
    """Delivers one world's pending updates to its webhook until stopped."""

    def __init__(self, world: World, settings: WebhookSettings):
        self.world = world
        self.settings = settings
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._retry_at: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.world.listeners.append(self._wake.set)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop delivering; requests in flight are abandoned (their updates stay pending)."""
        if self._wake.set in self.world.listeners:
            self.world.listeners.remove(self._wake.set)
        tasks = [*self._in_flight.values(), *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=self.settings.max_connections)
        async with httpx.AsyncClient(
            timeout=self.world.webhook_timeout, limits=limits, trust_env=False
        ) as client:
            while True:
                self._wake.clear()
                next_retry = self._start_deliverable(client)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), next_retry)

    def _start_deliverable(self, client: httpx.AsyncClient) -> float:
        """Start a request for each person's oldest pending update that may go now; returns how long
        until the next redelivery is due."""
        now = time.monotonic()
        next_retry = 1.0
        waiting_people: set[object] = set()
        allowed = self.settings.allowed_updates
        for update in list(self.world.pending_updates):
            if allowed is not None and not any(kind in update for kind in allowed):
                self.world.pending_updates.remove(update)  # Telegram never sends what was not asked for
                continue
            person = _sender(update)
            if person in waiting_people:
                continue
            waiting_people.add(person)
            update_id = update["update_id"]
            if update_id in self._in_flight:
                continue
            due = self._retry_at.get(update_id, 0.0)
            if due > now:
                next_retry = min(next_retry, due - now)
                continue
            if len(self._in_flight) >= self.settings.max_connections:
                break
            self._in_flight[update_id] = asyncio.create_task(self._deliver(client, update))
            log = self.world.webhook_log
            log.most_in_flight = max(log.most_in_flight, len(self._in_flight))
        return next_retry

    async def _deliver(self, client: httpx.AsyncClient, update: dict[str, Any]) -> None:
        update_id = update["update_id"]
        log = self.world.webhook_log
        log.attempts[update_id] = log.attempts.get(update_id, 0) + 1
        headers = {"Content-Type": "application/json"}
        if self.settings.secret is not None:
            headers[SECRET_HEADER] = self.settings.secret
        error: str | None = None
        try:
            response = await client.post(self.settings.url, content=json.dumps(update), headers=headers)
            if not 200 <= response.status_code < 300:
                error = f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
        except httpx.TimeoutException:
            error = "Read timeout expired"
        except httpx.HTTPError as failure:
            error = f"Connection failed: {type(failure).__name__}"
        finally:
            self._in_flight.pop(update_id, None)
        if error is None:
            log.accepted[update_id] = log.accepted.get(update_id, 0) + 1
            self._retry_at.pop(update_id, None)
            with contextlib.suppress(ValueError):
                self.world.pending_updates.remove(update)
        else:
            delays = self.world.redelivery_delays
            self._retry_at[update_id] = (
                time.monotonic() + delays[min(log.attempts[update_id], len(delays)) - 1]
            )
            log.last_error_date, log.last_error_message = int(time.time()), error
        self._wake.set()


def _sender(update: dict[str, Any]) -> object:
    """The person an update comes from (updates without one are ordered among themselves)."""
    for kind, body in update.items():
        if kind != "update_id" and isinstance(body, dict):
            sender = body.get("from") or body.get("chat") or {}
            return sender.get("id")
    return None
