"""A small loopback load balancer for the multi-instance tests and the benchmark: each request goes
to the next instance in turn; an instance that refuses the connection (it is down) is skipped, and
when none answers the sender gets 502 (Telegram then delivers again later)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import Sequence

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Balancer:
    """Round robin over ``backends`` (base URLs such as ``http://127.0.0.1:8123``)."""

    def __init__(self, backends: Sequence[str], timeout: float = 30.0):
        self.backends = list(backends)
        self._turn = itertools.count()
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self.forwarded: dict[str, int] = dict.fromkeys(self.backends, 0)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response: Response = Response("no instance answers", status_code=502)
        backends = list(self.backends)
        first = next(self._turn)
        for offset in range(len(backends)):
            backend = backends[(first + offset) % len(backends)]
            try:
                answer = await self._client.request(
                    request.method, backend + target, content=body, headers=headers
                )
            except httpx.ConnectError:
                continue  # down: try the next one
            except httpx.HTTPError:
                break  # it took the request and died or hung: the sender decides whether to repeat it
            self.forwarded[backend] = self.forwarded.get(backend, 0) + 1
            response = Response(answer.content, status_code=answer.status_code)
            break
        await response(scope, receive, send)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self, port: int = 0) -> None:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        await self._client.aclose()
