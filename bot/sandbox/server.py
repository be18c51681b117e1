"""HTTP face of the sandbox: the Bot API under ``/bot<token>/<method>``, the person API under
``/sandbox/api/`` and the chat page at ``/``, served on a loopback address by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from bot.sandbox.rules import BotApiError
from bot.sandbox.world import Fault, StoredFile, World

STATIC_DIR = Path(__file__).parent / "static"
JSON_PARAMETERS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "entities",
        "link_preview_options",
        "reply_parameters",
        "caption_entities",
    }
)
log = logging.getLogger(__name__)

Handler = Callable[[World, dict[str, Any], dict[str, UploadFile]], Awaitable[Any]]


async def _read_parameters(request: Request) -> tuple[dict[str, Any], dict[str, UploadFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body, as Telegram reads them."""
    params: dict[str, Any] = dict(request.query_params)
    uploads: dict[str, UploadFile] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body:
            params.update(json.loads(body))
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads[key] = value
            else:
                params[key] = value
    for key in JSON_PARAMETERS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError:
                raise BotApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return params, uploads


async def _upload(params: dict[str, Any], uploads: dict[str, UploadFile]) -> StoredFile | None:
    """The document uploaded with sendDocument, whether sent directly or as ``attach://name``."""
    reference = params.get("document")
    upload = uploads.get("document")
    if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
        upload = uploads.get(reference.removeprefix("attach://"))
    if upload is None:
        return None
    return StoredFile(
        file_id="BQAC" + secrets.token_urlsafe(24),
        name=upload.filename or "document",
        mime_type=upload.content_type or "application/octet-stream",
        content=await upload.read(),
    )


async def _send_document(world: World, params: dict, uploads: dict) -> Any:
    return await world.send_document(params, await _upload(params, uploads))


def _sync(function: Callable[[World, dict[str, Any]], Any]) -> Handler:
    async def call(world: World, params: dict[str, Any], _uploads: dict) -> Any:
        return function(world, params)

    return call


def _async(function: Callable[[World, dict[str, Any]], Awaitable[Any]]) -> Handler:
    async def call(world: World, params: dict[str, Any], _uploads: dict) -> Any:
        return await function(world, params)

    return call


METHODS: dict[str, Handler] = {
    "getme": _sync(lambda world, _params: world.bot_user()),
    "logout": _sync(lambda _world, _params: True),
    "close": _sync(lambda _world, _params: True),
    "getupdates": _async(World.get_updates),
    "setwebhook": _async(World.set_webhook),
    "deletewebhook": _async(World.delete_webhook),
    "getwebhookinfo": _sync(lambda world, _params: world.webhook_info()),
    "sendmessage": _async(World.send_message),
    "editmessagetext": _async(World.edit_message_text),
    "editmessagereplymarkup": _async(World.edit_message_reply_markup),
    "deletemessage": _async(World.delete_message),
    "answercallbackquery": _async(World.answer_callback_query),
    "senddocument": _send_document,
    "sendlocation": _async(lambda world, params: world.send_location(params, venue=False)),
    "sendvenue": _async(lambda world, params: world.send_location(params, venue=True)),
    "setmycommands": _sync(World.set_my_commands),
    "getmycommands": _sync(World.get_my_commands),
    "deletemycommands": _sync(World.delete_my_commands),
    "sendchataction": _sync(World.send_chat_action),
    "setchatmenubutton": _sync(lambda _world, _params: True),
}


@dataclass
class Sandbox:
    """One sandbox server: any number of bot worlds (by token) and the first one's chat page."""

    worlds: dict[str, World]

    @property
    def primary(self) -> World:
        return next(iter(self.worlds.values()))

    def add_world(self, world: World) -> World:
        self.worlds[world.token] = world
        return world

    async def bot_api(self, request: Request) -> Response:
        world = self.worlds.get(request.path_params["token"])
        if world is None:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        handler = METHODS.get(method.lower())
        if handler is None:
            return JSONResponse(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, 404
            )
        world.calls.append(method)
        try:
            world.take_fault(method)
            params, uploads = await _read_parameters(request)
            result = await handler(world, params, uploads)
        except BotApiError as refusal:
            if refusal.status not in (429, 500) and "blocked" not in refusal.description:
                world.refusals.append((method, refusal.description))
            return JSONResponse(refusal.payload(), refusal.status)
        return JSONResponse({"ok": True, "result": result})

    # ---- the person API (chat page, tests, benchmark) ---------------------------------------

    async def list_people(self, _request: Request) -> Response:
        world = self.primary
        return JSONResponse(
            [
                {
                    "id": p.id,
                    "first_name": p.first_name,
                    "language_code": p.language_code,
                    "label": p.label,
                    "blocked": p.blocked,
                }
                for p in world.people.values()
            ]
        )

    async def chat(self, request: Request) -> Response:
        world = self.primary
        person_id = int(request.path_params["person_id"])
        if person_id not in world.people:
            return JSONResponse({"error": "unknown person"}, 404)
        try:
            since = int(request.query_params.get("since", -1))
            wait = max(0.0, min(25.0, float(request.query_params.get("wait", 0))))
        except ValueError:
            return JSONResponse({"error": "since must be a whole number and wait a number of seconds"}, 400)
        version = world.version
        if since == version and wait:
            version = await world.wait_for_change(since, wait)
        toasts = [
            {"id": query_id, "message_id": q.message_id, "text": q.answer_text, "show_alert": q.show_alert}
            for query_id, q in world.callback_queries.items()
            if q.person_id == person_id and q.answered and q.answer_text
        ]
        return JSONResponse(
            {
                "version": version,
                "messages": world.chat_view(person_id),
                "toasts": toasts,
                "blocked": world.people[person_id].blocked,
            }
        )

    async def send(self, request: Request) -> Response:
        body = await request.json()
        text = str(body.get("text", ""))
        try:
            update_id = await self.primary.person_sends(int(request.path_params["person_id"]), text)
        except LookupError as error:
            return JSONResponse({"error": str(error)}, 404)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"update_id": update_id})

    async def tap(self, request: Request) -> Response:
        body = await request.json()
        try:
            update_id, query_id = await self.primary.person_taps(
                int(request.path_params["person_id"]),
                int(body["message_id"]),
                str(body["callback_data"]),
            )
        except (LookupError, KeyError, ValueError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"update_id": update_id, "callback_query_id": query_id})

    async def block(self, request: Request) -> Response:
        person_id = int(request.path_params["person_id"])
        blocked = (await request.json()).get("blocked", True)
        world = self.primary
        if person_id not in world.people:
            return JSONResponse({"error": "unknown person"}, 404)
        if blocked:
            await world.person_blocks(person_id)
        else:
            await world.person_unblocks(person_id)
        return JSONResponse({"blocked": bool(blocked)})

    async def file(self, request: Request) -> Response:
        stored = self.primary.files.get(request.path_params["file_id"])
        if stored is None:
            return JSONResponse({"error": "unknown file"}, 404)
        disposition = f"attachment; filename*=UTF-8''{quote(stored.name, safe='')}"
        return Response(
            stored.content, media_type=stored.mime_type, headers={"Content-Disposition": disposition}
        )

    async def inject_fault(self, request: Request) -> Response:
        body = await request.json()
        kind = body.get("kind")
        if kind not in ("retry_after", "blocked", "not_modified", "server_error"):
            return JSONResponse(
                {"error": "kind must be retry_after, blocked, not_modified or server_error"}, 400
            )
        self.primary.faults.append(
            Fault(
                str(body.get("method", "*")), kind, int(body.get("count", 1)), int(body.get("retry_after", 1))
            )
        )
        return JSONResponse({"ok": True})

    async def page(self, _request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self.bot_api, methods=["GET", "POST"]),
                Route("/sandbox/api/people", self.list_people),
                Route("/sandbox/api/people/{person_id:int}/chat", self.chat),
                Route("/sandbox/api/people/{person_id:int}/messages", self.send, methods=["POST"]),
                Route("/sandbox/api/people/{person_id:int}/taps", self.tap, methods=["POST"]),
                Route("/sandbox/api/people/{person_id:int}/block", self.block, methods=["POST"]),
                Route("/sandbox/api/files/{file_id}", self.file),
                Route("/sandbox/api/faults", self.inject_fault, methods=["POST"]),
                Route("/", self.page),
            ]
        )


class RunningSandbox:
    """A sandbox served by uvicorn in the current event loop; ``stop()`` shuts it down."""

    def __init__(self, sandbox: Sandbox, server: uvicorn.Server, task: asyncio.Task[None], app: Starlette):
        self.sandbox = sandbox
        self._server = server
        self._task = task
        self._app = app

    def mount(self, path: str, app: ASGIApp) -> None:
        """Serve another app under ``path`` on the same server (the demo's staff desk)."""
        self._app.router.routes.insert(0, Mount(path, app=app))

    @property
    def port(self) -> int:
        return self._server.servers[0].sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for ``WEGWEISER_TELEGRAM_API_URL``."""
        return f"{self.base_url}/bot"

    async def stop(self) -> None:
        for world in self.sandbox.worlds.values():
            await world.close()
        self._server.should_exit = True
        await self._task


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the program embedding it."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


async def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Start serving on ``host:port`` (0 picks a free port) and return once it accepts requests."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the sandbox only listens on a loopback address")
    app = sandbox.asgi()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # uvicorn's loggers go through the privacy formatter (bot/logs.py)
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            with contextlib.suppress(SystemExit):
                task.result()
            raise OSError(f"cannot listen on {host}:{port}; is the port already in use?")
        await asyncio.sleep(0.01)
    return RunningSandbox(sandbox, server, task, app)


def new_world(
    token: str = "100000001:SANDBOX-wegweiser-local-only", username: str = "wegweiser_bot"
) -> World:
    """A world for one bot; the token only has to match what the bot is configured with."""
    return World(token=token, bot_id=int(token.split(":", 1)[0]), username=username)
