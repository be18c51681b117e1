"""The desk's pages, one module per feature; ``routes()`` lists them all."""

from __future__ import annotations

from starlette.routing import BaseRoute

from desk.pages import (
    agenda,
    audit_log,
    calendar,
    case_forms,
    cases,
    offer_transfer,
    offers,
    report,
    staff,
)


def routes() -> list[BaseRoute]:
    return [
        *cases.routes(),
        *case_forms.routes(),
        *agenda.routes(),
        *offer_transfer.routes(),
        *offers.routes(),
        *staff.routes(),
        *audit_log.routes(),
        *report.routes(),
        *calendar.routes(),
    ]
