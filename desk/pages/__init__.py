"""The desk's pages, one module each; ``routes()`` lists them all."""

from __future__ import annotations

from starlette.routing import BaseRoute

from desk.pages import admin_pages, agenda, calendar, cases, news, posters, report


def routes() -> list[BaseRoute]:
    return [
        *cases.routes(),
        *agenda.routes(),
        *admin_pages.routes(),
        *report.routes(),
        *calendar.routes(),
        *posters.routes(),
        *news.routes(),
    ]
