"""The admins' staff page: staff members with their roles, changing a role, removing someone, and
single-use invitation links for Telegram (``storage.people`` and ``storage.invites``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, admin, checked_form, services_of
from desk.i18n import DeskTexts
from desk.pages.common import redirect
from desk.render import page
from storage import invites, outbox, people
from storage.db import session_scope
from storage.errors import DomainError
from storage.models import Person, Role


def role_labels(texts: DeskTexts) -> dict[str, str]:
    return {"advisor": texts.gettext("Advisor"), "admin": texts.gettext("Admin")}


def staff_notices(texts: DeskTexts) -> dict[str, str]:
    return {
        "role": texts.gettext("The role was changed."),
        "removed": texts.gettext("The staff member was removed. Their desk sessions have ended."),
        "withdrawn": texts.gettext("The invitation was withdrawn."),
    }


async def _staff_page(
    request: Request,
    who: Visitor,
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    invite_link: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        staff = await people.list_staff(session)
        waiting = await invites.open_invites(session, services.clock())
        undelivered = {entry.person_id: entry for entry in await outbox.undelivered(session)}
    return page(
        request,
        "staff.html",
        who.texts,
        who,
        status=status,
        section="staff",
        title=who.texts.gettext("Staff"),
        staff=staff,
        invites=waiting,
        undelivered=undelivered,
        roles=role_labels(who.texts),
        invite_link=invite_link,
        form=form or {},
        notice=notice,
        problem=problem,
    )


async def staff_list(request: Request) -> Response:
    who = await admin(request)
    notice = staff_notices(who.texts).get(request.query_params.get("done", ""))
    return await _staff_page(request, who, notice=notice)


async def _staff_member(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or not person.is_staff:
        raise HTTPException(404)
    return person


async def change_role(request: Request) -> Response:
    who = await admin(request)
    form = await checked_form(request, who)
    person_id = request.path_params["person_id"]
    role = form.get("role", "")
    if role not in (Role.ADVISOR, Role.ADMIN):
        return await _staff_page(request, who, status=400, problem=who.texts.gettext("Please choose a role."))
    services = services_of(request)
    try:
        async with session_scope(services.sessions) as session:
            await _staff_member(session, person_id)
            await people.change_staff_role(session, who.person.id, person_id, Role(role), services.clock())
    except DomainError as error:
        return await _staff_refusal(request, who, error)
    return redirect(request, "/staff", done="role")


async def _staff_refusal(request: Request, who: Visitor, error: DomainError) -> Response:
    """Why a staff change was refused (storage.people's rules), in the admin's language."""
    if error.reason == "own_role":
        # Admins do not change or remove their own role: the last admin could lock everyone out.
        problem = who.texts.gettext(
            "You cannot change or remove your own role. Another admin can do that for you."
        )
    else:
        problem = who.texts.gettext("This change is not possible. Nothing was changed.")
    return await _staff_page(request, who, status=400, problem=problem)


async def remove_member(request: Request) -> Response:
    """Take the staff role away; their desk sessions, sign-in links and calendar address end."""
    who = await admin(request)
    await checked_form(request, who)
    person_id = request.path_params["person_id"]
    try:
        async with session_scope(services_of(request).sessions) as session:
            await _staff_member(session, person_id)
            await people.remove_staff_member(session, who.person.id, person_id)
    except DomainError as error:
        return await _staff_refusal(request, who, error)
    return redirect(request, "/staff", done="removed")


async def create_invite(request: Request) -> Response:
    """A single-use invitation link for Telegram, shown once."""
    who = await admin(request)
    form = await checked_form(request, who)
    services = services_of(request)
    texts = who.texts
    if not services.bot_username:
        problem = texts.gettext(
            "Invitations need the bot's username, which is not known yet. Please try again later."
        )
        return await _staff_page(request, who, status=503, problem=problem, form=form)
    try:
        async with session_scope(services.sessions) as session:
            token = await invites.create_invite(
                session, who.person.id, form.get("role", ""), form.get("name", ""), services.clock()
            )
    except invites.NotAllowed:
        raise HTTPException(403) from None
    except invites.InvalidInvite as invalid:
        problem = (
            texts.gettext("Please choose a role.")
            if invalid.reason == "role"
            else texts.gettext("Please enter a name of 1 to 100 characters.")
        )
        return await _staff_page(request, who, status=400, problem=problem, form=form)
    link = f"https://t.me/{services.bot_username}?start=invite_{token}"
    return await _staff_page(request, who, invite_link=link)


async def withdraw_invite(request: Request) -> Response:
    who = await admin(request)
    await checked_form(request, who)
    try:
        async with session_scope(services_of(request).sessions) as session:
            found = await invites.withdraw_invite(session, who.person.id, request.path_params["invite_id"])
    except invites.NotAllowed:
        raise HTTPException(403) from None
    if not found:
        raise HTTPException(404)
    return redirect(request, "/staff", done="withdrawn")


def routes() -> list[BaseRoute]:
    return [
        Route("/staff", staff_list),
        Route("/staff/invite", create_invite, methods=["POST"]),
        Route("/staff/invites/{invite_id:id}/withdraw", withdraw_invite, methods=["POST"]),
        Route("/staff/{person_id:id}/role", change_role, methods=["POST"]),
        Route("/staff/{person_id:id}/remove", remove_member, methods=["POST"]),
    ]
