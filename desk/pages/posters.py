"""Posters (admins): a printable A4 PDF with the bot's QR code for one poster source, and how many
people arrived through each source this year (numbers only)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, admin, services_of
from desk.render import page
from storage import posters
from storage.db import session_scope


async def _page(request: Request, who: Visitor, *, status: int = 200, **context: object) -> Response:
    services = services_of(request)
    today = services.clock().astimezone(services.zone).date()
    async with session_scope(services.sessions) as session:
        arrivals = await posters.arrivals(session, date(today.year, 1, 1), today)
    return page(
        request,
        "posters.html",
        who.texts,
        who,
        status=status,
        section="posters",
        title=who.texts.gettext("Posters"),
        arrivals=arrivals,
        year=today.year,
        available=services.poster_pdf is not None,
        **context,
    )


async def posters_page(request: Request) -> Response:
    who = await admin(request)
    return await _page(request, who)


async def poster_download(request: Request) -> Response:
    """The PDF for the source in the query (``?source=rathaus``)."""
    who = await admin(request)
    services = services_of(request)
    source = request.query_params.get("source", "").strip()
    if services.poster_pdf is None:
        return await _page(request, who, status=503, source=source)
    if not posters.valid_source(source):
        problem = who.texts.gettext(
            "Please name the place with 1 to 32 lowercase letters, digits or dashes, e.g. rathaus."
        )
        return await _page(request, who, status=400, problem=problem, source=source)
    return Response(
        services.poster_pdf(source),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="wegweiser-poster-{source}.pdf"'},
    )


def routes() -> list[BaseRoute]:
    return [Route("/posters", posters_page), Route("/posters.pdf", poster_download)]
