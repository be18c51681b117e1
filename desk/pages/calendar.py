"""An advisor's calendar subscription: creating and revoking the secret address, and the iCalendar
feed behind it. The feed needs no session (calendar apps cannot sign in): the token in the address
is the secret. It carries times, case numbers and the type of consultation, never a name."""

from __future__ import annotations

from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import advisor, checked_form, services_of
from desk.pages.agenda import period_of, render_agenda
from desk.pages.common import root
from storage import booking, desk_access
from storage.db import session_scope
from storage.models import AppointmentKind

FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=60)
# Calendar apps show the summary in the staff's working language, whatever the desk's setting.
KIND_NAMES = {AppointmentKind.FIRST: "Erstberatung", AppointmentKind.FOLLOW_UP: "Folgeberatung"}


async def create_feed(request: Request) -> Response:
    """A new secret address (replacing the old one), shown once on the agenda."""
    who = await advisor(request)
    await checked_form(request, who)
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        token = await desk_access.issue_calendar_feed(session, who.person.id, services.clock())
    today = services.clock().astimezone(services.zone).date()
    return await render_agenda(
        request,
        who,
        period_of(None, None, today),
        feed_url=f"{services.public_url.rstrip('/')}/calendar/{token}.ics",
    )


async def revoke_feed(request: Request) -> Response:
    who = await advisor(request)
    await checked_form(request, who)
    async with session_scope(services_of(request).sessions) as session:
        await desk_access.revoke_calendar_feed(session, who.person.id)
    return RedirectResponse(f"{root(request)}/agenda?done=feed_revoked#calendar", status_code=303)


async def calendar_feed(request: Request) -> Response:
    """The advisor's appointments from a week ago to two months ahead, as an iCalendar file."""
    from icalendar import Calendar, Event  # ~3 MB; loaded by the first calendar app that asks

    services = services_of(request)
    now = services.clock()
    async with session_scope(services.sessions) as session:
        owner = await desk_access.calendar_owner(session, request.path_params["token"])
        if owner is None:
            raise HTTPException(404)
        rows = await booking.agenda(session, owner.id, now - FEED_PAST, now + FEED_AHEAD)
    calendar = Calendar()
    calendar.add("prodid", "-//Wegweiser//Staff desk//DE")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Wegweiser")
    calendar.add("x-published-ttl", timedelta(hours=1))
    for appointment, case in rows:
        event = Event()
        event.add("uid", f"appointment-{appointment.id}@wegweiser")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        event.add("summary", f"Beratung {case.number} ({KIND_NAMES.get(appointment.kind, 'Beratung')})")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="wegweiser.ics"'},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/calendar/feed", create_feed, methods=["POST"]),
        Route("/calendar/feed/revoke", revoke_feed, methods=["POST"]),
        Route("/calendar/{token}.ics", calendar_feed),
    ]
