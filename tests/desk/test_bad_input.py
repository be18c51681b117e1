"""The desk under bad input: malformed ids in paths and forms are 400 or 404 on every route, never
500; every response, error pages included, carries the security headers; CSRF tokens that are not
even ASCII are refused like any wrong token; and an exception that quotes a posted value does not
put that value into the log."""

from __future__ import annotations

import dataclasses
import logging
import socket

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import desk_services
from bot.logs import PAYLOAD_LOGGERS, configure_logging
from bot.web import WebServer, web_app
from desk.app import create_desk
from desk.pages import routes
from storage import offers
from storage.models import Role
from tests.desk.conftest import DeskClient, case_of, csrf_of
from tests.support.harness import BotUnderTest

ANNA, JONAS, AMIRA = 8700, 8701, 8702
MALFORMED = ["0", "-1", "2147483648", "99999999999999999999", "²", "١٢", "abc", "1e3", "%20", "7.0"]
ADMIN_PREFIXES = ("/offers", "/staff", "/audit")
CONFIGURED_LOGGERS = (*PAYLOAD_LOGGERS, "httpx", "httpcore", "apscheduler", "uvicorn.access", "alembic")
SECURITY_HEADERS = {
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "permissions-policy",
}


def id_routes() -> list[tuple[str, str]]:
    """Every desk route with an id in its path, as (method, path template)."""
    found = []
    for route in routes():
        assert isinstance(route, Route)
        if any(name.endswith("_id") for name in route.param_convertors):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                found.append((method, route.path))
    return found


def with_id(template: str, value: str) -> str:
    start, end = template.index("{"), template.index("}")
    return template[:start] + value + template[end + 1 :]


async def test_malformed_ids_are_400_or_404_on_every_route(bot: BotUnderTest, desk: DeskClient) -> None:
    await bot.load_offers()
    advisor, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    admin, _ = await desk(JONAS, "Jonas Keller", Role.ADMIN)
    tokens = {
        advisor: csrf_of((await advisor.get(f"{base}/cases")).text),
        admin: csrf_of((await admin.get(f"{base}/offers")).text),
    }
    templates = id_routes()
    assert len(templates) >= 17, templates

    statuses: dict[str, int] = {}
    for method, template in templates:
        client = admin if template.startswith(ADMIN_PREFIXES) else advisor
        form = {"csrf": tokens[client], "role": "advisor", "action": "archive", "value": "yes", "text": "x"}
        for value in MALFORMED:
            url = base + with_id(template, value)
            response = await (client.post(url, data=form) if method == "POST" else client.get(url))
            statuses[f"{method} {with_id(template, value)}"] = response.status_code

    assert {key: status for key, status in statuses.items() if status not in (400, 404)} == {}


async def test_the_largest_possible_id_is_simply_not_found(bot: BotUnderTest, desk: DeskClient) -> None:
    advisor, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    admin, _ = await desk(JONAS, "Jonas Keller", Role.ADMIN)
    admin_csrf = csrf_of((await admin.get(f"{base}/staff")).text)
    advisor_csrf = csrf_of((await advisor.get(f"{base}/agenda")).text)

    role = await admin.post(f"{base}/staff/2147483647/role", data={"csrf": admin_csrf, "role": "advisor"})
    offer = await admin.get(f"{base}/offers/2147483647")
    outcome = await advisor.post(
        f"{base}/appointments/2147483647/outcome", data={"csrf": advisor_csrf, "value": "yes"}
    )

    assert (role.status_code, offer.status_code) == (404, 404)
    assert outcome.status_code in (403, 409)  # "not yours", like any appointment of someone else


async def test_malformed_ids_in_form_fields_are_400(bot: BotUnderTest, desk: DeskClient) -> None:
    case = await case_of(bot, AMIRA)
    advisor, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page_url = f"{base}/cases/{case.id}"
    csrf = csrf_of((await advisor.get(page_url)).text)
    await advisor.post(f"{page_url}/take", data={"csrf": csrf})

    for value in ["²", "١٢", "99999999999999999999", "-3", "0"]:
        note = await advisor.post(f"{page_url}/notes", data={"csrf": csrf, "text": "x", "appointment": value})
        goal = await advisor.post(f"{base}/goals/1", data={"csrf": csrf, "case": value, "goal": "x"})
        assert (value, note.status_code, goal.status_code) == (value, 400, 400)


async def test_csrf_tokens_that_are_not_ascii_are_refused_like_any_wrong_token(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    admin, base = await desk(JONAS, "Jonas Keller", Role.ADMIN)

    for token in ["ä" * 43, "", "x"]:
        refused = await admin.post(f"{base}/audit/check", data={"csrf": token})
        assert refused.status_code == 403


async def test_every_response_carries_the_security_headers_error_pages_too(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    async def boom(_request: Request) -> Response:
        raise RuntimeError("a bug")

    assert bot.application is not None
    services = desk_services(bot.application.bot_data.runtime, bot.application.bot.username)
    bot.running.mount("/failing", create_desk(services, page_routes=[Route("/boom", boom)]))
    https = dataclasses.replace(services, public_url="https://wegweiser.example/desk")
    bot.running.mount("/secure", create_desk(https, page_routes=[Route("/boom", boom)]))
    advisor, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    root = bot.running.base_url
    async with httpx.AsyncClient(timeout=15) as stranger:
        responses = {
            "page": await advisor.get(f"{base}/agenda"),
            "redirect": await advisor.get(f"{base}/"),
            "sign in please": await stranger.get(f"{base}/cases"),
            "not allowed": await advisor.get(f"{base}/offers"),
            "not found": await advisor.get(f"{base}/cases/²"),
            "wrong method": await advisor.put(f"{base}/agenda"),
            "server error": await stranger.get(f"{root}/failing/boom"),
            "https server error": await stranger.get(f"{root}/secure/boom"),
        }

    statuses = [response.status_code for response in responses.values()]
    assert statuses == [200, 303, 401, 403, 404, 405, 500, 500]
    for name, response in responses.items():
        assert set(response.headers) >= SECURITY_HEADERS, name
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], name
        assert response.headers["x-content-type-options"] == "nosniff", name
    assert "strict-transport-security" not in responses["server error"].headers
    assert responses["https server error"].headers["strict-transport-security"].startswith("max-age=")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def always_ready() -> list[str]:
    return []


async def test_a_failing_request_does_not_write_posted_values_into_the_log(
    bot: BotUnderTest, desk: DeskClient, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    marker = "Amira-Haddad-Hauptstrasse-5"

    async def failing(*args: object, **kwargs: object) -> None:
        raise ValueError(f"could not store {args}")  # quotes the posted value, as drivers do

    monkeypatch.setattr(offers, "set_offer_value", failing)
    await bot.load_offers()
    admin, base = await desk(JONAS, "Jonas Keller", Role.ADMIN)
    csrf = csrf_of((await admin.get(f"{base}/offers")).text)
    assert bot.application is not None
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    levels = {name: logging.getLogger(name).level for name in CONFIGURED_LOGGERS}
    port = _free_port()
    configure_logging("INFO")
    desk_app = web_app(
        desk_services(bot.application.bot_data.runtime, bot.application.bot.username), always_ready
    )
    web = WebServer(desk_app, "127.0.0.1", port)
    await web.start()
    try:
        failed = await admin.post(
            f"http://127.0.0.1:{port}/desk/offers/1", data={"csrf": csrf, "address": marker}
        )
    finally:
        await web.stop()
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in levels.items():  # other tests capture these loggers' records
            logging.getLogger(name).setLevel(level)

    logged = capfd.readouterr().err
    assert failed.status_code == 500
    assert "Exception in ASGI application" in logged
    assert "builtins.ValueError" in logged
    assert marker not in logged
