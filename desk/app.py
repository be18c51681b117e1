"""The desk's ASGI app: sign-in and sign-out, language, error pages, and every page's routes."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desk.auth import COOKIE, Visitor, checked_form, services_of, visitor
from desk.i18n import DEFAULT, DeskTexts
from desk.render import page
from desk.services import DeskServices
from storage import desk_access
from storage.db import session_scope

log = logging.getLogger(__name__)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# Auto-submits the sign-in form; a file of the desk's own, so the CSP needs no inline script.
SIGN_IN_SCRIPT = 'document.getElementById("sign-in").submit();\n'


class SecurityHeaders:
    """No framing, no scripts from elsewhere, no referrer (sign-in links stay out of other logs),
    no browser features, no caching of pages with case data, and HTTPS only once it is used.

    It wraps the whole desk, error handling included, so 500 pages carry the headers too."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Desk(Starlette):
    """The desk's Starlette app, with the security headers outside its error handling."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), https=self.state.services.secure_cookies)


def base_path(request: Request) -> str:
    """Where the desk is mounted ("/desk"), for links and the cookie path."""
    return request.scope.get("root_path", "").rstrip("/") or ""


def _link_not_valid(request: Request) -> Response:
    texts = DeskTexts(DEFAULT, services_of(request).zone)
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


async def sign_in_page(request: Request) -> Response:
    """GET of the link from the bot: a page whose form signs in (sent at once by the desk's own
    script, or by the button). The GET spends nothing, so a link preview cannot use the link up, and
    the sign-in itself is a same-site POST, so the session cookie is sent on the way to the desk
    even when the link was opened from another site (Telegram Web, a mail client)."""
    services = services_of(request)
    token = request.path_params["token"]
    async with session_scope(services.sessions) as session:
        usable = await desk_access.sign_in_usable(session, token, services.clock())
    if not usable:
        return _link_not_valid(request)
    texts = DeskTexts(DEFAULT, services.zone)
    return page(request, "signin.html", texts, title=texts.gettext("Sign in to the desk"), token=token)


async def sign_in_script(_request: Request) -> Response:
    return Response(SIGN_IN_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


async def sign_in(request: Request) -> Response:
    """Open a session with a link from the bot (single use, ten minutes). Only the desk's own sign-in
    page may send this form: a browser that says the form came from another site is refused, so
    nobody can sign someone else in to their own session."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403)
    services = services_of(request)
    token = (await request.form()).get("token")
    if not isinstance(token, str) or not token:
        return _link_not_valid(request)
    async with session_scope(services.sessions) as session:
        opened = await desk_access.redeem_sign_in(session, token, services.clock())
    if opened is None:
        return _link_not_valid(request)
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

    app = Desk(
        routes=[
            Route("/", home),
            Route("/signin", sign_in, methods=["POST"]),
            Route("/signin.js", sign_in_script),
            Route("/signin/{token}", sign_in_page),
            Route("/signout", sign_out, methods=["POST"]),
            Route("/language", choose_language, methods=["POST"]),
            *(page_routes if page_routes is not None else pages.routes()),
        ],
        exception_handlers={HTTPException: on_http_error, Exception: on_server_error},
    )
    app.state.services = services
    return app
