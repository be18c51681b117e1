"""Signing in and staying signed in: the session cookie, role checks and CSRF protection."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request

from desk.i18n import DeskTexts
from desk.services import DeskServices
from storage import desk_access
from storage.db import session_scope
from storage.models import Person

COOKIE = "wegweiser_desk"


@dataclass(frozen=True)
class Visitor:
    """The signed-in staff member of this request."""

    person: Person
    csrf_token: str
    texts: DeskTexts
    session_hash: str

    @property
    def is_admin(self) -> bool:
        return self.person.role == "admin"

    @property
    def is_advisor(self) -> bool:
        return self.person.role == "advisor"


def services_of(request: Request) -> DeskServices:
    return request.app.state.services


async def visitor(request: Request) -> Visitor:
    """The staff member behind the request; 401 (a sign-in page) for everyone else."""
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        found = await desk_access.signed_in(session, request.cookies.get(COOKIE), services.clock())
    if found is None:
        raise HTTPException(401)
    return Visitor(
        found.person, found.csrf_token, DeskTexts(found.language, services.zone), found.session_hash
    )


async def advisor(request: Request) -> Visitor:
    """Pages about cases and the agenda: advisors only (admins do not read case contents)."""
    found = await visitor(request)
    if not found.is_advisor:
        raise HTTPException(403)
    return found


async def admin(request: Request) -> Visitor:
    found = await visitor(request)
    if not found.is_admin:
        raise HTTPException(403)
    return found


async def checked_form(request: Request, who: Visitor) -> dict[str, str]:
    """The posted form, after checking its CSRF token against the session's (403 otherwise)."""
    form = await request.form()
    sent = form.get("csrf")
    # Compared in constant time, as bytes: a str with non-ASCII characters cannot be compared so.
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), who.csrf_token.encode()):
        raise HTTPException(403, "csrf")
    return {key: value for key, value in form.items() if isinstance(value, str)}
