"""The advisors' case pages: the case list with its filters, and the case file (status and
counselling period, consents, needs assessment, integration plan, reviews, appointments, notes,
referrals). The forms that change a case live in ``case_forms``.

Every read goes through ``storage.cases``, which checks the role and the assignment and audits in
the same unit of work; this module only maps refusals to pages and renders.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, advisor, services_of
from desk.pages.case_texts import consent_first, labels, no_key, notices, problems
from desk.render import page
from storage import case_files, cases
from storage.consent import CURRENT_VERSIONS, Purpose
from storage.crypto import CaseCipher, KeyMissing, UnreadableText
from storage.db import session_scope
from storage.models import GOAL_STATUSES, NEED_AREAS, NEED_STATUSES, Consent, Offer, Person
from storage.offers import text_in

SHOWS = ("mine", "unassigned", "plan_missing", "review_due", "period_ending")
FLAGS = ("plan_missing", "review_due", "period_ending")


class SealedTexts(CaseCipher):
    """Stands in for the cipher while no case-data key is configured: the case file opens (with its
    access check and audit), its texts stay sealed, and nothing can be encrypted."""

    def __init__(self) -> None:  # no keys to load
        pass

    def encrypt(self, text: str | None) -> str | None:
        raise KeyMissing("no case-data key is configured")

    def decrypt(self, token: str | None) -> str | None:
        return None


def local_day(now: datetime, request: Request) -> date:
    return now.astimezone(services_of(request).zone).date()


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
            rows = await case_files.list_cases(session, staff, local_day(now, request), now, show)
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


async def render_case(
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
                session, services.cipher or SealedTexts(), staff, case_id, local_day(now, request), now
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
        today=local_day(now, request),
        max_text=cases.MAX_TEXT,
    )


async def case_page(request: Request) -> Response:
    """GET /cases/{case_id}: the case file."""
    who = await advisor(request)
    notice = notices(who.texts).get(request.query_params.get("done", ""))
    return await render_case(request, who, request.path_params["case_id"], notice=notice)


def routes() -> list[BaseRoute]:
    return [Route("/cases", case_list), Route("/cases/{case_id:id}", case_page)]
