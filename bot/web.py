"""The web server of ``wegweiser run``: the staff desk at /desk and a health check, served by
uvicorn inside the bot's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from desk.app import create_desk
from desk.services import DeskServices


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def web_app(desk: DeskServices, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The desk and health check, plus ``routes`` (the webhook in webhook mode)."""
    return Starlette(routes=[*routes, Route("/healthz", health), Mount("/desk", app=create_desk(desk))])


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the bot."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


class WebServer:
    """Start and stop the web server alongside the bot."""

    def __init__(self, desk: DeskServices, host: str, port: int, routes: Sequence[BaseRoute] = ()):
        config = uvicorn.Config(
            web_app(desk, routes),
            host=host,
            port=port,
            log_level="warning",
            log_config=None,  # uvicorn's loggers go through the privacy formatter (bot/logs.py)
            access_log=False,
            lifespan="off",
            proxy_headers=True,
        )
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                with contextlib.suppress(SystemExit):
                    self._task.result()
                raise OSError(
                    f"the desk cannot listen on {self._server.config.host}:{self._server.config.port}"
                )
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
