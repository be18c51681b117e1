"""The forms that change a case: taking it on, consents given in person, needs assessment, plan
goals, reviews, notes, extending, closing and reopening.

Every write goes through ``storage.cases``, which checks the role and the assignment and audits in
the same unit of work; this module parses forms and maps refusals to the case page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import advisor, checked_form, services_of
from desk.pages.case_texts import consent_first, problems
from desk.pages.cases import SealedTexts, render_case
from desk.pages.common import EARLIEST, LATEST, form_id, root
from locales import SUPPORTED_LANGUAGES
from storage import cases
from storage.consent import ConsentMissing, Purpose
from storage.crypto import CaseCipher
from storage.db import session_scope
from storage.models import GOAL_STATUSES

# The parts of the case page a finished form returns to.
ANCHORS = {
    "taken": "status",
    "consent": "consents",
    "need": "needs",
    "goal": "plan",
    "goal_changed": "plan",
    "review": "reviews",
    "note": "notes",
    "extended": "status",
    "closed": "status",
    "reopened": "status",
}


class Invalid(ValueError):
    """A form value this page does not accept; ``reason`` is a key of :func:`problems`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _choice(value: str | None, allowed: Iterable[str]) -> str:
    if value not in tuple(allowed):
        raise Invalid("choice")
    assert value is not None
    return value


def _date(value: str | None, *, required: bool) -> date | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise Invalid("bad_date")
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid("bad_date") from None
    if not EARLIEST <= day <= LATEST:
        raise Invalid("bad_date")
    return day


# ---- the forms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """What one form's write gets: its unit of work, the staff member, the posted form, the time,
    and the cipher (texts are refused before the write while no key is configured)."""

    session: AsyncSession
    staff: cases.Staff
    form: dict[str, str]
    now: datetime
    cipher: CaseCipher

    def text(self, field: str) -> str:
        """A free text as typed (``storage.cases`` trims and checks it), with plain line ends."""
        return self.form.get(field, "").replace("\r\n", "\n")


Operation = Callable[[Work], Awaitable[int]]


async def _write(
    request: Request,
    done: str,
    operation: Operation,
    *,
    writes_texts: bool,
    case_id: int | None = None,
    reasons: dict[str, str] | None = None,
) -> Response:
    """Check the CSRF token, run one write in one unit of work, then go back to the case page with
    a notice; invalid input re-renders the page with the problem, refusals are 403 pages.

    ``operation`` returns the id of the case it changed; ``case_id`` is the page a problem is shown
    on (``None``: the form's ``case`` field, for goal forms). ``reasons`` renames reason codes."""
    who = await advisor(request)
    form = await checked_form(request, who)
    services = services_of(request)
    if case_id is None:
        case_id = form_id(form.get("case"))
        if case_id is None:
            raise HTTPException(400)
    texts = who.texts
    try:
        if writes_texts and services.cipher is None:
            raise Invalid("no_key")
        async with session_scope(services.sessions) as session:
            staff = await cases.staff_member(session, who.person.id)
            work = Work(session, staff, form, services.clock(), services.cipher or SealedTexts())
            changed = await operation(work)
    except cases.CaseAccessDenied:
        raise HTTPException(403) from None
    except ConsentMissing:
        return await render_case(
            request, who, case_id, problem=consent_first(texts), status=403, draft={"form": done, **form}
        )
    except (Invalid, cases.CaseRuleBroken) as refused:
        reason = (reasons or {}).get(refused.reason, refused.reason)
        return await render_case(
            request,
            who,
            case_id,
            problem=problems(texts).get(reason, problems(texts)["choice"]),
            status=400,
            draft={"form": done, **form},
        )
    return RedirectResponse(f"{root(request)}/cases/{changed}?done={done}#{ANCHORS[done]}", status_code=303)


async def take(request: Request) -> Response:
    """POST /cases/{case_id}/take: an advisor takes an unassigned case on."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        return (await cases.take_case(work.session, work.staff, case_id, work.now)).id

    return await _write(request, "taken", operation, writes_texts=False, case_id=case_id)


async def record_consent(request: Request) -> Response:
    """POST /cases/{case_id}/consents: a consent the person gave in the consultation."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        purpose = _choice(work.form.get("purpose"), (purpose.value for purpose in Purpose))
        language = _choice(work.form.get("language"), SUPPORTED_LANGUAGES)
        if work.form.get("confirmed") != "yes":
            raise Invalid("confirm")
        await cases.record_consent_in_person(work.session, work.staff, case_id, purpose, language, work.now)
        return case_id

    return await _write(request, "consent", operation, writes_texts=False, case_id=case_id)


async def save_need(request: Request) -> Response:
    """POST /cases/{case_id}/needs: one area of the needs assessment."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        area, status = work.form.get("area", ""), work.form.get("status", "")
        await cases.set_need(
            work.session, work.cipher, work.staff, case_id, area, status, work.text("note"), work.now
        )
        return case_id

    return await _write(request, "need", operation, writes_texts=True, case_id=case_id)


async def add_goal(request: Request) -> Response:
    """POST /cases/{case_id}/goals: a new goal of the integration plan."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        await cases.add_goal(
            work.session,
            work.cipher,
            work.staff,
            case_id,
            area=work.form.get("area", ""),
            goal=work.text("goal"),
            steps=work.text("steps"),
            due_on=_date(work.form.get("due_on"), required=False),
            now=work.now,
        )
        return case_id

    return await _write(request, "goal", operation, writes_texts=True, case_id=case_id)


async def change_goal(request: Request) -> Response:
    """POST /goals/{goal_id}: a goal's text, steps, due date and status."""
    goal_id = request.path_params["goal_id"]

    async def operation(work: Work) -> int:
        goal = await cases.update_goal(
            work.session,
            work.cipher,
            work.staff,
            goal_id,
            now=work.now,
            goal=work.text("goal"),
            steps=work.text("steps"),
            due_on=_date(work.form.get("due_on"), required=False),
            status=_choice(work.form.get("status"), GOAL_STATUSES),
        )
        return goal.case_id

    return await _write(request, "goal_changed", operation, writes_texts=True)


async def add_review(request: Request) -> Response:
    """POST /cases/{case_id}/reviews: a review of the plan; the next one is due in three months
    unless another date is given."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        held_on = _date(work.form.get("held_on"), required=True)
        assert held_on is not None
        await cases.add_review(
            work.session,
            work.cipher,
            work.staff,
            case_id,
            held_on=held_on,
            summary=work.text("summary"),
            next_review_on=_date(work.form.get("next_review_on"), required=False),
            now=work.now,
        )
        return case_id

    return await _write(request, "review", operation, writes_texts=True, case_id=case_id)


async def add_note(request: Request) -> Response:
    """POST /cases/{case_id}/notes: a consultation note, optionally on one of the appointments."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        chosen = work.form.get("appointment", "")
        appointment_id = form_id(chosen)
        if chosen and appointment_id is None:
            raise Invalid("choice")
        await cases.add_note(
            work.session, work.cipher, work.staff, case_id, work.text("text"), work.now, appointment_id
        )
        return case_id

    return await _write(request, "note", operation, writes_texts=True, case_id=case_id)


async def extend(request: Request) -> Response:
    """POST /cases/{case_id}/extend: the counselling period from three to four years, once."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        await cases.extend_period(
            work.session, work.cipher, work.staff, case_id, work.text("reason"), work.now
        )
        return case_id

    return await _write(request, "extended", operation, writes_texts=True, case_id=case_id)


async def close(request: Request) -> Response:
    """POST /cases/{case_id}/close."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        return (await cases.close_case(work.session, work.staff, case_id, work.now)).id

    return await _write(request, "closed", operation, writes_texts=False, case_id=case_id)


async def reopen(request: Request) -> Response:
    """POST /cases/{case_id}/reopen."""
    case_id = request.path_params["case_id"]

    async def operation(work: Work) -> int:
        return (await cases.reopen_case(work.session, work.staff, case_id, work.now)).id

    return await _write(
        request, "reopened", operation, writes_texts=False, case_id=case_id, reasons={"status": "not_closed"}
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/cases/{case_id:id}/take", take, methods=["POST"]),
        Route("/cases/{case_id:id}/consents", record_consent, methods=["POST"]),
        Route("/cases/{case_id:id}/needs", save_need, methods=["POST"]),
        Route("/cases/{case_id:id}/goals", add_goal, methods=["POST"]),
        Route("/goals/{goal_id:id}", change_goal, methods=["POST"]),
        Route("/cases/{case_id:id}/reviews", add_review, methods=["POST"]),
        Route("/cases/{case_id:id}/notes", add_note, methods=["POST"]),
        Route("/cases/{case_id:id}/extend", extend, methods=["POST"]),
        Route("/cases/{case_id:id}/close", close, methods=["POST"]),
        Route("/cases/{case_id:id}/reopen", reopen, methods=["POST"]),
    ]
