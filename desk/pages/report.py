"""The funding report (Verwendungsnachweis) for a period: the summary on the page and the CSV
download, both from ``storage.report``. Advisors and admins; the figures hold no case contents."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, services_of, visitor
from desk.i18n import DeskTexts
from desk.pages.common import day_param, local_today
from desk.render import page
from storage import report
from storage.db import session_scope


class PeriodProblem(ValueError):
    """The requested period cannot be reported; the message is for the page."""


def requested_period(texts: DeskTexts, params: dict[str, str], today: date) -> tuple[date, date]:
    """The period from ``from`` and ``to`` (default: this month so far)."""
    raw_start, raw_end = params.get("from", ""), params.get("to", "")
    start = day_param(raw_start) if raw_start else today.replace(day=1)
    end = day_param(raw_end) if raw_end else today
    if start is None or end is None:
        raise PeriodProblem(texts.gettext("Please enter both dates as real calendar dates."))
    if start > end:
        raise PeriodProblem(texts.gettext("The period must not end before it starts."))
    return start, end


def _form(request: Request, who: Visitor, status: int = 200, **context: object) -> Response:
    return page(
        request,
        "report.html",
        who.texts,
        who,
        status=status,
        section="report",
        title=who.texts.gettext("Funding report"),
        **context,
    )


async def report_page(request: Request) -> Response:
    who = await visitor(request)
    params = dict(request.query_params)
    try:
        start, end = requested_period(who.texts, params, local_today(request))
    except PeriodProblem as problem:
        return _form(
            request,
            who,
            status=400,
            problem=str(problem),
            start=params.get("from", ""),
            end=params.get("to", ""),
        )
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        figures = await report.funding_report(session, start, end, services.zone)
    return _form(
        request,
        who,
        start=start.isoformat(),
        end=end.isoformat(),
        period=(start, end),
        summary=report.summary_text(figures),
    )


async def report_csv(request: Request) -> Response:
    """The report's rows as a CSV file to download."""
    who = await visitor(request)
    params = dict(request.query_params)
    try:
        start, end = requested_period(who.texts, params, local_today(request))
    except PeriodProblem as problem:
        return _form(
            request,
            who,
            status=400,
            problem=str(problem),
            start=params.get("from", ""),
            end=params.get("to", ""),
        )
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        figures = await report.funding_report(session, start, end, services.zone)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.csv"
        report.write_csv(figures, path)
        content = path.read_bytes()
    filename = f"wegweiser-report-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def routes() -> list[BaseRoute]:
    return [Route("/report", report_page), Route("/report.csv", report_csv)]
