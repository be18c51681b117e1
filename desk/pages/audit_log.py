"""The admins' audit log page: entries newest first with filters, and the chain check
(``storage.audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, admin, checked_form, services_of
from desk.pages.common import count_param, day_param
from desk.render import page
from storage import audit
from storage.db import session_scope

AUDIT_PAGE = 100


@dataclass(frozen=True)
class AuditFilter:
    case: str
    action: str
    start: date | None
    end: date | None
    page: int

    def query(self, **changes: Any) -> str:
        values = {
            "case": self.case,
            "action": self.action,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "page": self.page,
            **changes,
        }
        return urlencode({key: value for key, value in values.items() if value not in ("", None, 0)})


def audit_filter(params: dict[str, str]) -> AuditFilter:
    return AuditFilter(
        case=params.get("case", "").strip().upper()[:12],
        action=params.get("action", "").strip()[:40],
        start=day_param(params.get("from")),
        end=day_param(params.get("to")),
        page=count_param(params.get("page", "")),
    )


async def _audit_page(
    request: Request,
    who: Visitor,
    chosen: AuditFilter,
    *,
    notice: str | None = None,
    problem: str | None = None,
) -> Response:
    services = services_of(request)
    zone = services.zone
    since = datetime.combine(chosen.start, time(0), zone).astimezone(UTC) if chosen.start else None
    until = (
        datetime.combine(chosen.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        if chosen.end
        else None
    )
    async with session_scope(services.sessions) as session:
        found = await audit.log_page(
            session,
            case_number=chosen.case,
            action=chosen.action,
            since=since,
            until=until,
            page=chosen.page,
            page_size=AUDIT_PAGE,
        )
    entries, total, actions = found.entries, found.total, found.actions
    return page(
        request,
        "audit.html",
        who.texts,
        who,
        section="audit",
        title=who.texts.gettext("Audit log"),
        entries=entries,
        total=total,
        actions=actions,
        chosen=chosen,
        newer=chosen.query(page=chosen.page - 1) if chosen.page > 0 else None,
        older=chosen.query(page=chosen.page + 1) if (chosen.page + 1) * AUDIT_PAGE < total else None,
        first=chosen.page * AUDIT_PAGE + 1,
        last=min(total, (chosen.page + 1) * AUDIT_PAGE),
        notice=notice,
        problem=problem,
    )


async def audit_log(request: Request) -> Response:
    who = await admin(request)
    return await _audit_page(request, who, audit_filter(dict(request.query_params)))


async def check_chain(request: Request) -> Response:
    """Recompute every hash of the log and say whether the chain is intact."""
    who = await admin(request)
    await checked_form(request, who)
    async with session_scope(services_of(request).sessions) as session:
        result = await audit.verify_chain(session)
    texts = who.texts
    if result.intact:
        notice = texts.ngettext(
            "The audit log is intact: {n} entry checked.",
            "The audit log is intact: {n} entries checked.",
            result.entries,
        )
        return await _audit_page(request, who, audit_filter({}), notice=notice)
    problem = texts.gettext(
        "The audit log was changed: entry {entry} does not fit the chain. "
        "Please tell the data protection officer.",
        entry=result.broken_at or 0,
    )
    return await _audit_page(request, who, audit_filter({}), problem=problem)


def routes() -> list[BaseRoute]:
    return [Route("/audit", audit_log), Route("/audit/check", check_chain, methods=["POST"])]
