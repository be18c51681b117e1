"""Wegweiser in webhook mode for tests: an Application serving its webhook on a free loopback port,
against the sandbox, in this process."""

from __future__ import annotations

from contextlib import AsyncExitStack

from pydantic import SecretStr

from bot.app import build_application
from bot.config import Settings
from bot.webhook import serving_webhook
from tests.support.balancer import free_port
from tests.support.harness import Clock, TrackingApplication

WEBHOOK_SECRET = "test-webhook-secret-0123456789-abcdefghij"
WEBHOOK_PATH = "/telegram/webhook"


def webhook_settings(settings: Settings, port: int, webhook_base: str | None = None) -> Settings:
    """``settings`` in webhook mode, serving on ``port``; Telegram posts to ``webhook_base`` (a load
    balancer) or straight to this instance."""
    base = webhook_base or f"http://127.0.0.1:{port}"
    return settings.model_copy(
        update={
            "webhook_url": base + WEBHOOK_PATH,
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "desk_host": "127.0.0.1",
            "desk_port": port,
            "metrics_port": 0,  # several instances on one machine would share the default port
        }
    )


class WebhookInstance:
    """One Wegweiser instance in webhook mode; ``start``/``stop`` may be repeated."""

    def __init__(self, settings: Settings, clock: Clock, webhook_base: str | None = None):
        self.port = free_port()
        self.settings = webhook_settings(settings, self.port, webhook_base)
        self.clock = clock
        self.application: TrackingApplication | None = None
        self._stack: AsyncExitStack | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TrackingApplication:
        application = build_application(
            self.settings, clock=self.clock, application_class=TrackingApplication, serve_desk=True
        )
        assert isinstance(application, TrackingApplication)
        self._stack = AsyncExitStack()
        await self._stack.enter_async_context(serving_webhook(application))
        self.application = application
        return application

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self.application = None
