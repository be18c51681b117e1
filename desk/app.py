"""The desk's ASGI app: sign-in and sign-out, language, error pages, and every page's routes."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import COOKIE, Visitor, checked_form, services_of, visitor
from desk.i18n import DEFAULT, DeskTexts
from desk.render import page
from desk.services import DeskServices
from storage import desk_access
from storage.db import session_scope

log = logging.getLogger(__name__)


class SecurityHeaders(BaseHTTPMiddleware):
    """No framing, no scripts from elsewhere, no referrer (sign-in links stay out of other logs),
    no caching of pages with case data."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def base_path(request: Request) -> str:
    """Where the desk is mounted ("/desk"), for links and the cookie path."""
    return request.scope.get("root_path", "").rstrip("/") or ""


async def sign_in(request: Request) -> Response:
    """Open a session with a link from the bot (single use, ten minutes)."""
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        opened = await desk_access.redeem_sign_in(session, request.path_params["token"], services.clock())
    if opened is None:
        texts = DeskTexts(DEFAULT, services.zone)
        return page(
            request,
            "message.html",
            texts,
            status=403,
            title=texts.gettext("Sign-in link not valid"),
            message=texts.gettext(
                "This sign-in link has expired or was already used. Send /desk to the bot for a new one."
            ),
        )
    response = RedirectResponse(f"{base_path(request)}/", status_code=303)
    response.set_cookie(
        COOKIE,
        opened.token,
        httponly=True,
        samesite="strict",
        secure=services.secure_cookies,
        path=base_path(request) or "/",
        max_age=12 * 3600,
    )
    return response


async def sign_out(request: Request) -> Response:
    who = await visitor(request)
    await checked_form(request, who)
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        await desk_access.sign_out(session, request.cookies.get(COOKIE))
    response = page(
        request,
        "message.html",
        who.texts,
        title=who.texts.gettext("Signed out"),
        message=who.texts.gettext("You have signed out. Send /desk to the bot to sign in again."),
    )
    response.delete_cookie(COOKIE, path=base_path(request) or "/")
    return response


async def choose_language(request: Request) -> Response:
    who = await visitor(request)
    form = await checked_form(request, who)
    if form.get("language") in ("de", "en"):
        async with session_scope(services_of(request).sessions) as session:
            await desk_access.set_language(session, who.session_hash, form["language"])
    back = form.get("back", "")
    return RedirectResponse(
        back if back.startswith(base_path(request) + "/") else f"{base_path(request)}/", status_code=303
    )


async def home(request: Request) -> Response:
    """Advisors start at their agenda, admins at the offers."""
    who = await visitor(request)
    return RedirectResponse(
        f"{base_path(request)}/{'agenda' if who.is_advisor else 'offers'}", status_code=303
    )


async def _texts_for(request: Request) -> tuple[DeskTexts, Visitor | None]:
    """The visitor's language (and the visitor, for the navigation) when they are signed in."""
    services = services_of(request)
    try:
        who = await visitor(request)
    except HTTPException:
        return DeskTexts(DEFAULT, services.zone), None
    return who.texts, who


async def on_http_error(request: Request, error: Exception) -> Response:
    """Errors as pages that say what happened, in the visitor's language; never a traceback."""
    assert isinstance(error, HTTPException)
    texts, who = await _texts_for(request)
    titles = {
        401: (
            texts.gettext("Please sign in"),
            texts.gettext(
                "Send /desk to the Wegweiser bot in Telegram. It answers with a sign-in link that "
                "works once, for ten minutes."
            ),
        ),
        403: (
            texts.gettext("Not allowed"),
            texts.gettext("You are not allowed to open this page or send this form."),
        ),
        404: (texts.gettext("Not found"), texts.gettext("This page does not exist (any more).")),
    }
    title, message = titles.get(
        error.status_code,
        (texts.gettext("Something went wrong"), texts.gettext("Please try again in a moment.")),
    )
    return page(request, "message.html", texts, who, status=error.status_code, title=title, message=message)


async def on_server_error(request: Request, error: Exception) -> Response:
    log.error("desk request failed with %s", type(error).__name__, exc_info=error)
    texts = DeskTexts(DEFAULT, services_of(request).zone)
    return page(
        request,
        "message.html",
        texts,
        status=500,
        title=texts.gettext("Something went wrong"),
        message=texts.gettext("Please try again in a moment."),
    )


def create_desk(services: DeskServices, page_routes: list[BaseRoute] | None = None) -> Starlette:
    """The desk, to be mounted (usually at /desk) on the web server."""
    from desk import pages

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/signin/{token}", sign_in),
            Route("/signout", sign_out, methods=["POST"]),
            Route("/language", choose_language, methods=["POST"]),
            *(page_routes if page_routes is not None else pages.routes()),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: on_http_error, Exception: on_server_error},
    )
    app.state.services = services
    return app
