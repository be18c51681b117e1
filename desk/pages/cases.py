"""The advisors' case pages: the case list with its filters, and the case file (status and
counselling period, consents, needs assessment, integration plan, reviews, appointments, notes,
referrals) with the forms that change it.

Every read and write goes through ``storage.cases``, which checks the role and the assignment and
audits in the same unit of work; this module only parses forms, maps refusals to pages and renders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, advisor, checked_form, services_of
from desk.i18n import DeskTexts
from desk.render import page
from locales import SUPPORTED_LANGUAGES
from storage import case_files, cases
from storage.consent import CURRENT_VERSIONS, ConsentMissing, Purpose
from storage.crypto import CaseCipher, KeyMissing, UnreadableText
from storage.db import session_scope
from storage.models import GOAL_STATUSES, NEED_AREAS, NEED_STATUSES, Consent, Offer, Person
from storage.offers import text_in

SHOWS = ("mine", "unassigned", "plan_missing", "review_due", "period_ending")
FLAGS = ("plan_missing", "review_due", "period_ending")
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
MAX_ID = 2**31 - 1

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


def labels(texts: DeskTexts) -> dict[str, dict[str, str]]:
    """Translated names of the codes the case store uses."""
    return {
        "area": {
            "language": texts.gettext("Language"),
            "work": texts.gettext("Work"),
            "housing": texts.gettext("Housing"),
            "health": texts.gettext("Health"),
            "children": texts.gettext("Children and family"),
            "money": texts.gettext("Money"),
            "papers": texts.gettext("Papers and residence"),
            "social": texts.gettext("Social contacts"),
            "mobility": texts.gettext("Mobility"),
        },
        "need_status": {
            "unknown": texts.gettext("Not discussed yet"),
            "no_need": texts.gettext("No need"),
            "need": texts.gettext("Need"),
            "in_progress": texts.gettext("In progress"),
            "met": texts.gettext("Met"),
        },
        "goal_status": {
            "open": texts.gettext("Open"),
            "in_progress": texts.gettext("In progress"),
            "reached": texts.gettext("Reached"),
            "dropped": texts.gettext("Dropped"),
        },
        "case_status": {
            "new": texts.gettext("New"),
            "assessment": texts.gettext("Needs assessment"),
            "plan": texts.gettext("Integration plan"),
            "active": texts.gettext("Active"),
            "closed": texts.gettext("Closed"),
        },
        "purpose": {
            "booking": texts.gettext("Booking appointments"),
            "case": texts.gettext("Case management"),
            "reminders": texts.gettext("Reminders"),
            "referral": texts.gettext("Referral to services"),
        },
        "flag": {
            "plan_missing": texts.gettext("Plan missing"),
            "review_due": texts.gettext("Review due"),
            "period_ending": texts.gettext("Period ending"),
        },
        "show": {
            "mine": texts.gettext("My cases"),
            "unassigned": texts.gettext("Unassigned"),
            "plan_missing": texts.gettext("Plan missing"),
            "review_due": texts.gettext("Review due"),
            "period_ending": texts.gettext("Period ending"),
        },
        "consent_how": {"chat": texts.gettext("In the chat"), "in_person": texts.gettext("In person")},
        "consent_state": {
            "valid": texts.gettext("Valid"),
            "withdrawn": texts.gettext("Withdrawn"),
            "outdated": texts.gettext("Older text version"),
        },
        "appointment": {
            "booked": texts.gettext("Booked"),
            "attended": texts.gettext("Attended"),
            "no_show": texts.gettext("Did not come"),
            "cancelled": texts.gettext("Cancelled"),
            "cancelled_person": texts.gettext("Cancelled by the person"),
            "cancelled_advisor": texts.gettext("Cancelled by the advisor"),
        },
        "kind": {"first": texts.gettext("First consultation"), "follow_up": texts.gettext("Follow-up")},
        "topic": {
            "housing": texts.gettext("Housing"),
            "work": texts.gettext("Work"),
            "language": texts.gettext("Language"),
            "family": texts.gettext("Family"),
            "health": texts.gettext("Health"),
            "papers": texts.gettext("Papers and residence"),
            "money": texts.gettext("Money"),
            "other": texts.gettext("Something else"),
        },
        "cancel_reason": {
            "ill": texts.gettext("ill"),
            "no_time": texts.gettext("no time"),
            "solved": texts.gettext("solved"),
            "other": texts.gettext("other reason"),
            "none": texts.gettext("no reason given"),
            "advisor_ill": texts.gettext("advisor ill"),
            "emergency": texts.gettext("emergency"),
        },
        "referral": {
            "open": texts.gettext("Open"),
            "done": texts.gettext("Done"),
            "withdrawn": texts.gettext("Withdrawn"),
        },
    }


def notices(texts: DeskTexts) -> dict[str, str]:
    """What a finished form says on the page it returns to (``?done=…``)."""
    return {
        "taken": texts.gettext("You took the case on."),
        "consent": texts.gettext("The consent was recorded."),
        "need": texts.gettext("The needs assessment was saved."),
        "goal": texts.gettext("The goal was added to the plan."),
        "goal_changed": texts.gettext("The goal was saved."),
        "review": texts.gettext("The review was recorded."),
        "note": texts.gettext("The note was saved."),
        "extended": texts.gettext("The counselling period was extended."),
        "closed": texts.gettext("The case was closed."),
        "reopened": texts.gettext("The case was reopened."),
    }


def consent_first(texts: DeskTexts) -> str:
    return texts.gettext(
        "Record the person's consent first: without a valid consent to case management, no needs, "
        "plan, reviews or notes may be stored or shown."
    )


def no_key(texts: DeskTexts) -> str:
    return texts.gettext("Case texts cannot be read: the case-data key is not configured.")


def problems(texts: DeskTexts) -> dict[str, str]:
    """Why a form was not accepted, by the reason codes of ``storage.cases`` and of this module."""
    return {
        "area": texts.gettext("Please choose one of the listed areas."),
        "status": texts.gettext("Please choose one of the listed statuses."),
        "empty": texts.gettext("Please fill in the text."),
        "too_long": texts.gettext(
            "The text is too long: at most {limit} characters.",
            limit=format_decimal(cases.MAX_TEXT, locale=texts.language),
        ),
        "extended": texts.gettext("The counselling period can be extended only once, and it already was."),
        "closed": texts.gettext("This case is closed."),
        "date": texts.gettext("The next review must come after the review."),
        "bad_date": texts.gettext("Please enter a valid date."),
        "choice": texts.gettext("Please choose one of the listed options."),
        "confirm": texts.gettext("Please confirm that the person has agreed."),
        "not_closed": texts.gettext("Only a closed case can be reopened."),
        "unreadable": texts.gettext(
            "Some case texts cannot be decrypted with the configured key. Please tell the administrator."
        ),
        "consent": consent_first(texts),
        "no_key": no_key(texts),
    }


class Invalid(ValueError):
    """A form value this page does not accept; ``reason`` is a key of :func:`problems`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SealedTexts(CaseCipher):
    """Stands in for the cipher while no case-data key is configured: the case file opens (with its
    access check and audit), its texts stay sealed, and nothing can be encrypted."""

    def __init__(self) -> None:  # no keys to load
        pass

    def encrypt(self, text: str | None) -> str | None:
        raise KeyMissing("no case-data key is configured")

    def decrypt(self, token: str | None) -> str | None:
        return None


def path_id(request: Request, name: str) -> int:
    """A database id from the path; 404 for numbers no row can have."""
    value = request.path_params[name]
    if not 0 < value <= MAX_ID:
        raise HTTPException(404)
    return value


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _today(now: datetime, request: Request) -> date:
    return now.astimezone(services_of(request).zone).date()


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


def consent_state(consent: Consent) -> str:
    if consent.withdrawn_at is not None:
        return "withdrawn"
    return "valid" if consent.text_version == CURRENT_VERSIONS.get(consent.purpose) else "outdated"


# ---- the list --------------------------------------------------------------------------------


async def case_list(request: Request) -> Response:
    """GET /cases?show=…: the advisor's cases, the unassigned ones, or the flagged ones."""
    who = await advisor(request)
    services = services_of(request)
    show = request.query_params.get("show", "mine")
    show = show if show in SHOWS else "mine"
    now = services.clock()
    try:
        async with session_scope(services.sessions) as session:
            staff = await cases.staff_member(session, who.person.id)
            rows = await case_files.list_cases(session, staff, _today(now, request), now, show)
    except cases.CaseAccessDenied:
        raise HTTPException(403) from None
    return page(
        request,
        "cases.html",
        who.texts,
        who,
        section="cases",
        title=who.texts.gettext("Cases"),
        rows=rows,
        show=show,
        shows=SHOWS,
        flags=FLAGS,
        labels=labels(who.texts),
    )


# ---- the case file ---------------------------------------------------------------------------


async def _referral_offers(session: AsyncSession, offer_ids: set[int]) -> dict[int, Offer]:
    if not offer_ids:
        return {}
    offers = await session.scalars(
        select(Offer).options(selectinload(Offer.texts)).where(Offer.id.in_(offer_ids))
    )
    return {offer.id: offer for offer in offers}


async def _staff_names(session: AsyncSession, person_ids: set[int]) -> dict[int, str]:
    names = {}
    for person_id in person_ids:
        person = await session.get(Person, person_id)
        if person is not None and person.staff_name:
            names[person_id] = person.staff_name
    return names


async def _case_page(
    request: Request,
    who: Visitor,
    case_id: int,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
    draft: dict[str, str] | None = None,
) -> Response:
    """The case file as the signed-in advisor may see it (403 for anyone else; nothing audited then)."""
    services = services_of(request)
    texts = who.texts
    now = services.clock()
    try:
        async with session_scope(services.sessions) as session:
            staff = await cases.staff_member(session, who.person.id)
            file = await case_files.open_case(
                session, services.cipher or SealedTexts(), staff, case_id, _today(now, request), now
            )
            offers = await _referral_offers(
                session, {referral.offer_id for referral in file.referrals if referral.offer_id}
            )
            names = await _staff_names(
                session,
                {note.author_id for note, _ in file.notes if note.author_id}
                | {review.created_by for review, _ in file.reviews if review.created_by},
            )
    except cases.CaseAccessDenied:
        raise HTTPException(403) from None
    except UnreadableText:
        return page(
            request,
            "message.html",
            texts,
            who,
            status=500,
            section="cases",
            title=texts.gettext("Case texts cannot be read"),
            message=problems(texts)["unreadable"],
        )
    case = file.case
    consent_ok = any(
        consent.purpose == Purpose.CASE_MANAGEMENT and consent_state(consent) == "valid"
        for consent in file.consents
    )
    offer_names = {}
    for offer_id, offer in offers.items():
        shown = text_in(offer, texts.language)
        offer_names[offer_id] = shown.text.name if shown else "–"
    need_of = {need.area: (need, note) for need, note in file.needs}
    return page(
        request,
        "case.html",
        texts,
        who,
        status=status,
        section="cases",
        title=texts.gettext("Case {number}", number=case.number),
        notice=notice,
        problem=problem,
        file=file,
        case=case,
        mine=case.advisor_id == who.person.id,
        consent_ok=consent_ok,
        sealed=services.cipher is None,
        no_key=no_key(texts),
        consent_first=consent_first(texts),
        need_of=need_of,
        offer_names=offer_names,
        staff_names=names,
        draft=draft or {},
        labels=labels(texts),
        consent_state=consent_state,
        need_areas=NEED_AREAS,
        need_statuses=NEED_STATUSES,
        goal_statuses=GOAL_STATUSES,
        purposes=[purpose.value for purpose in Purpose],
        languages=list(texts.language_names.items()),
        language_names=texts.language_names,
        flag_order=FLAGS,
        today=_today(now, request),
        max_text=cases.MAX_TEXT,
    )


async def case_page(request: Request) -> Response:
    """GET /cases/{case_id}: the case file."""
    who = await advisor(request)
    notice = notices(who.texts).get(request.query_params.get("done", ""))
    return await _case_page(request, who, path_id(request, "case_id"), notice=notice)


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
        try:
            case_id = int(form.get("case", ""))
        except ValueError:
            raise HTTPException(400) from None
        if not 0 < case_id <= MAX_ID:
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
        return await _case_page(
            request, who, case_id, problem=consent_first(texts), status=403, draft={"form": done, **form}
        )
    except (Invalid, cases.CaseRuleBroken) as refused:
        reason = (reasons or {}).get(refused.reason, refused.reason)
        return await _case_page(
            request,
            who,
            case_id,
            problem=problems(texts).get(reason, problems(texts)["choice"]),
            status=400,
            draft={"form": done, **form},
        )
    return RedirectResponse(f"{_root(request)}/cases/{changed}?done={done}#{ANCHORS[done]}", status_code=303)


async def take(request: Request) -> Response:
    """POST /cases/{case_id}/take: an advisor takes an unassigned case on."""
    case_id = path_id(request, "case_id")

    async def operation(work: Work) -> int:
        return (await cases.take_case(work.session, work.staff, case_id, work.now)).id

    return await _write(request, "taken", operation, writes_texts=False, case_id=case_id)


async def record_consent(request: Request) -> Response:
    """POST /cases/{case_id}/consents: a consent the person gave in the consultation."""
    case_id = path_id(request, "case_id")

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
    case_id = path_id(request, "case_id")

    async def operation(work: Work) -> int:
        area, status = work.form.get("area", ""), work.form.get("status", "")
        await cases.set_need(
            work.session, work.cipher, work.staff, case_id, area, status, work.text("note"), work.now
        )
        return case_id

    return await _write(request, "need", operation, writes_texts=True, case_id=case_id)


async def add_goal(request: Request) -> Response:
    """POST /cases/{case_id}/goals: a new goal of the integration plan."""
    case_id = path_id(request, "case_id")

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
    goal_id = path_id(request, "goal_id")

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
    case_id = path_id(request, "case_id")

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
    case_id = path_id(request, "case_id")

    async def operation(work: Work) -> int:
        chosen = work.form.get("appointment", "")
        appointment_id = int(chosen) if chosen.isdigit() else None
        if chosen and (appointment_id is None or not 0 < appointment_id <= MAX_ID):
            raise Invalid("choice")
        await cases.add_note(
            work.session, work.cipher, work.staff, case_id, work.text("text"), work.now, appointment_id
        )
        return case_id

    return await _write(request, "note", operation, writes_texts=True, case_id=case_id)


async def extend(request: Request) -> Response:
    """POST /cases/{case_id}/extend: the counselling period from three to four years, once."""
    case_id = path_id(request, "case_id")

    async def operation(work: Work) -> int:
        await cases.extend_period(
            work.session, work.cipher, work.staff, case_id, work.text("reason"), work.now
        )
        return case_id

    return await _write(request, "extended", operation, writes_texts=True, case_id=case_id)


async def close(request: Request) -> Response:
    """POST /cases/{case_id}/close."""
    case_id = path_id(request, "case_id")

    async def operation(work: Work) -> int:
        return (await cases.close_case(work.session, work.staff, case_id, work.now)).id

    return await _write(request, "closed", operation, writes_texts=False, case_id=case_id)


async def reopen(request: Request) -> Response:
    """POST /cases/{case_id}/reopen."""
    case_id = path_id(request, "case_id")

    async def operation(work: Work) -> int:
        return (await cases.reopen_case(work.session, work.staff, case_id, work.now)).id

    return await _write(
        request, "reopened", operation, writes_texts=False, case_id=case_id, reasons={"status": "not_closed"}
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/cases", case_list),
        Route("/cases/{case_id:int}", case_page),
        Route("/cases/{case_id:int}/take", take, methods=["POST"]),
        Route("/cases/{case_id:int}/consents", record_consent, methods=["POST"]),
        Route("/cases/{case_id:int}/needs", save_need, methods=["POST"]),
        Route("/cases/{case_id:int}/goals", add_goal, methods=["POST"]),
        Route("/goals/{goal_id:int}", change_goal, methods=["POST"]),
        Route("/cases/{case_id:int}/reviews", add_review, methods=["POST"]),
        Route("/cases/{case_id:int}/notes", add_note, methods=["POST"]),
        Route("/cases/{case_id:int}/extend", extend, methods=["POST"]),
        Route("/cases/{case_id:int}/close", close, methods=["POST"]),
        Route("/cases/{case_id:int}/reopen", reopen, methods=["POST"]),
    ]
