"""The web server of ``wegweiser run``: the staff desk at /desk, /healthz and /readyz, with an access
log that never records query strings or the tokens in sign-in and calendar links. The metrics are
served by a second server of the same kind on their own address."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.preflight import AddressInUse, listen
from desk.app import create_desk
from desk.services import DeskServices

access_log = logging.getLogger("wegweiser.access")
# Path segments that look like secrets (sign-in links, calendar feeds, invitation tokens).
_SECRET_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]{16,}(\.[a-z]{1,4})?$")

Readiness = Callable[[], Awaitable[list[str]]]


async def health(_request: Request) -> Response:
    """The process is alive and serving."""
    return PlainTextResponse("ok")


def readiness_route(readiness: Readiness) -> Route:
    async def ready(_request: Request) -> Response:
        """Ready when the database answers, its schema is current and Telegram answered recently."""
        problems = await readiness()
        if problems:
            return PlainTextResponse("not ready\n" + "\n".join(problems) + "\n", status_code=503)
        return PlainTextResponse("ready")

    return Route("/readyz", ready)


def web_app(desk: DeskServices, readiness: Readiness, routes: Sequence[BaseRoute] = ()) -> ASGIApp:
    """The desk, /healthz and /readyz, plus ``routes`` (the webhook in webhook mode), access-logged."""
    return AccessLog(
        Starlette(
            routes=[
                *routes,
                Route("/healthz", health),
                readiness_route(readiness),
                Mount("/desk", app=create_desk(desk)),
            ]
        )
    )


def loggable_path(path: str) -> str:
    """The request path with secret-looking segments replaced (the query string is never logged)."""
    return "/".join("…" if _SECRET_SEGMENT.match(part) else part for part in path.split("/"))


class AccessLog:
    """Logs method, path (tokens masked, no query string), status and duration of each request;
    no client address, cookie or header is recorded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        # Read before routing: a mounted app rewrites the scope on its way down.
        method, path = scope["method"], loggable_path(scope.get("root_path", "") + scope["path"])

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            access_log.info(
                "%s %s %s %.0fms",
                method,
                path,
                status,
                (time.perf_counter() - started) * 1000,
            )


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the bot."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


class WebServer:
    """Start and stop a web server alongside the bot."""

    def __init__(self, app: ASGIApp, host: str, port: int, setting: str = "WEGWEISER_DESK_PORT"):
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            log_config=None,  # uvicorn's loggers go through the privacy formatter (bot/logs.py)
            access_log=False,
            lifespan="off",
            proxy_headers=True,
        )
        self._server = _EmbeddedServer(config)
        self._setting = setting
        self._task: asyncio.Task[None] | None = None

    async def start(self, listening: socket.socket | None = None) -> None:
        """Listen (the socket is bound here unless it is given, so a taken port is one clear error),
        then serve."""
        host, port = self._server.config.host, self._server.config.port
        if listening is None:
            listening = listen(host, port, self._setting)
        self._task = asyncio.create_task(self._server.serve(sockets=[listening]))
        while not self._server.started:
            if self._task.done():
                with contextlib.suppress(SystemExit):
                    self._task.result()
                raise AddressInUse(self._setting, host, port)
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        """The port actually listened on (the configured one, or the one chosen for port 0)."""
        servers = self._server.servers
        return servers[0].sockets[0].getsockname()[1] if servers else self._server.config.port

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
