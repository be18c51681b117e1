"""The advisor's agenda: a day's or a week's appointments with their cases, "attended" or "did not
come" for appointments that have begun, and the box for the calendar subscription.

Appointments come from ``storage.booking.agenda`` and outcomes go through
``storage.booking.record_outcome``, which re-checks that the appointment is the advisor's own and
has begun; the page only parses, maps refusals and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, advisor, checked_form, services_of
from desk.i18n import DeskTexts
from desk.pages import case_texts
from desk.pages.common import EARLIEST, LATEST, local_today, root
from desk.render import page
from storage import booking, desk_access
from storage.db import session_scope
from storage.models import Appointment, AppointmentStatus, Case

VIEWS = ("week", "day")
OUTCOMES = {"yes": True, "no": False}
RECORDABLE = (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW)


def labels(texts: DeskTexts) -> dict[str, dict[str, str]]:
    """Translated names of the codes appointments use (the same texts as on the case page)."""
    on_case_page = case_texts.labels(texts)
    return {
        "kind": on_case_page["kind"],
        "topic": on_case_page["topic"],
        "status": on_case_page["appointment"],
    }


def notices(texts: DeskTexts) -> dict[str, str]:
    """What a finished form says on the agenda it returns to (``?done=…``)."""
    return {
        "attended": texts.gettext("Recorded: the person came."),
        "no_show": texts.gettext("Recorded: the person did not come."),
        "feed_revoked": texts.gettext(
            "The calendar address is revoked. Calendars subscribed to it receive no more appointments."
        ),
    }


@dataclass(frozen=True)
class Period:
    """The days the agenda shows: a week (Monday to Sunday) or one day, and where the arrows lead."""

    view: str
    day: date
    first: date
    last: date

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.view == "week" else 1)

    @property
    def previous(self) -> date:
        return self.day - self.step

    @property
    def next(self) -> date:
        return self.day + self.step

    def query(self, **extra: str) -> str:
        return urlencode({"view": self.view, "date": self.day.isoformat(), **extra})


def period_of(view: str | None, day: str | None, today: date) -> Period:
    """The period a request asks for; anything unreadable falls back to this week."""
    chosen_view = view if view in VIEWS else "week"
    try:
        chosen_day = date.fromisoformat(day) if day else today
    except ValueError:
        chosen_day = today
    if not EARLIEST <= chosen_day <= LATEST:
        chosen_day = today
    if chosen_view == "day":
        return Period("day", chosen_day, chosen_day, chosen_day)
    monday = chosen_day - timedelta(days=chosen_day.weekday())
    return Period("week", chosen_day, monday, monday + timedelta(days=6))


@dataclass(frozen=True)
class Entry:
    appointment: Appointment
    case: Case
    begun: bool

    @property
    def recordable(self) -> bool:
        return self.begun and self.appointment.status in RECORDABLE


def _title(texts: DeskTexts, period: Period) -> str:
    if period.view == "day":
        return texts.gettext("Agenda for {day}", day=texts.date(period.day, "full"))
    return texts.gettext(
        "Agenda for the week {first} to {last}", first=texts.date(period.first), last=texts.date(period.last)
    )


async def render_agenda(
    request: Request,
    who: Visitor,
    period: Period,
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    feed_url: str | None = None,
) -> Response:
    """The agenda page for ``period`` (also shown right after a calendar address was created)."""
    services = services_of(request)
    zone = services.zone
    begin = datetime.combine(period.first, time(0), zone).astimezone(UTC)
    until = datetime.combine(period.last + timedelta(days=1), time(0), zone).astimezone(UTC)
    async with session_scope(services.sessions) as session:
        rows = await booking.agenda(session, who.person.id, begin, until)
        subscribed = await desk_access.has_calendar_feed(session, who.person.id)
    now = services.clock()
    by_day: dict[date, list[Entry]] = {}
    for appointment, case in rows:
        by_day.setdefault(appointment.starts_at.astimezone(zone).date(), []).append(
            Entry(appointment, case, appointment.starts_at <= now)
        )
    days = []
    current = period.first
    while current <= period.last:
        if by_day.get(current) or period.view == "day" or current.weekday() < 5:
            days.append((current, by_day.get(current, [])))
        current += timedelta(days=1)
    texts = who.texts
    return page(
        request,
        "agenda.html",
        texts,
        who,
        status=status,
        section="agenda",
        title=_title(texts, period),
        period=period,
        today=local_today(request),
        days=days,
        count=len(rows),
        labels=labels(texts),
        languages=texts.language_names,
        subscribed=subscribed,
        feed_url=feed_url,
        notice=notice,
        problem=problem,
    )


async def agenda_page(request: Request) -> Response:
    who = await advisor(request)
    params = request.query_params
    period = period_of(params.get("view"), params.get("date"), local_today(request))
    return await render_agenda(request, who, period, notice=notices(who.texts).get(params.get("done", "")))


async def record_outcome(request: Request) -> Response:
    """Attended or did not come: only for the advisor's own appointments that have begun."""
    who = await advisor(request)
    form = await checked_form(request, who)
    period = period_of(form.get("view"), form.get("date"), local_today(request))
    attended = OUTCOMES.get(form.get("value", ""))
    if attended is None:
        problem = who.texts.gettext("Please choose “attended” or “did not come”.")
        return await render_agenda(request, who, period, status=400, problem=problem)
    services = services_of(request)
    try:
        async with session_scope(services.sessions) as session:
            await booking.record_outcome(
                session, services.clock(), request.path_params["appointment_id"], who.person.id, attended
            )
    except booking.BookingRefused as refused:
        if refused.reason == "not_yours":
            raise HTTPException(403) from None
        problem = who.texts.gettext(
            "This appointment has not begun yet or was cancelled, so there is nothing to record."
        )
        return await render_agenda(request, who, period, status=409, problem=problem)
    # Back to the period the form came from, rebuilt from parsed values (never echoed).
    done = "attended" if attended else "no_show"
    return RedirectResponse(f"{root(request)}/agenda?{period.query(done=done)}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/agenda", agenda_page),
        Route("/appointments/{appointment_id:id}/outcome", record_outcome, methods=["POST"]),
    ]
