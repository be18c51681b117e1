"""The admins' offer directory: the list, and the edit page with archive and restore and "still
correct". Import and export live in ``offer_transfer``.

The rules live in ``storage.offers`` (every change writes an ``OfferChange``); this module parses
forms, maps refusals and renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, admin, checked_form, services_of
from desk.i18n import DeskTexts
from desk.pages.common import count_param, local_today, redirect
from desk.pages.offer_texts import (
    category_labels,
    field_labels,
    invalid_value_text,
    offer_notices,
    translation_labels,
)
from desk.render import page
from locales.status import translation_status
from storage import offers
from storage.db import session_scope
from storage.hours import format_hours_line
from storage.models import Offer, OfferStatus

if TYPE_CHECKING:
    from storage import offer_files  # loaded by an upload (desk.pages.offer_transfer)


def form_values(offer: Offer) -> dict[str, str]:
    """The edit form's values for an offer as stored (text fields are ``text_<language>_<field>``)."""
    values = {
        "category": offer.category,
        "address": offer.address or "",
        "hours": format_hours_line(offer.hours),
        "phone": offer.phone or "",
        "email": offer.email or "",
        "website": offer.website or "",
        "languages": ", ".join(offer.languages or []),
        "barrier_free": "" if offer.barrier_free is None else ("yes" if offer.barrier_free else "no"),
        "ends_on": offer.ends_on.isoformat() if offer.ends_on else "",
    }
    for text in offer.texts:
        for field in offers.TEXT_FIELDS:
            values[f"text_{text.language}_{field}"] = getattr(text, field) or ""
    return values


def _check_due(offer: Offer, today: date) -> bool:
    """An active, running offer nobody confirmed for half a year (as ``offers_needing_attention``)."""
    if offer.status != OfferStatus.ACTIVE or (offer.ends_on is not None and offer.ends_on < today):
        return False
    return offer.last_verified is None or offer.last_verified < today - offers.STALE_AFTER


@dataclass(frozen=True)
class OfferRow:
    offer: Offer
    name: str
    archived: bool
    ended: bool
    stale: bool


async def _offer_rows(session: AsyncSession, texts: DeskTexts, today: date) -> list[OfferRow]:
    rows = []
    for offer in await offers.all_offers(session):
        shown = offers.text_in(offer, texts.language)
        rows.append(
            OfferRow(
                offer=offer,
                name=shown.text.name if shown else offer.slug,
                archived=offer.status == OfferStatus.ARCHIVED,
                ended=offer.ends_on is not None and offer.ends_on < today,
                stale=_check_due(offer, today),
            )
        )
    return sorted(rows, key=lambda row: row.name.casefold())


async def offers_page(
    request: Request,
    who: Visitor,
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    import_problems: Sequence[offer_files.Problem] = (),
) -> Response:
    async with session_scope(services_of(request).sessions) as session:
        rows = await _offer_rows(session, who.texts, local_today(request))
    return page(
        request,
        "offers.html",
        who.texts,
        who,
        status=status,
        section="offers",
        title=who.texts.gettext("Offers"),
        rows=rows,
        categories=category_labels(who.texts),
        notice=notice,
        problem=problem,
        import_problems=import_problems,
        translation_status=translation_status(),
        translation_labels=translation_labels(who.texts),
    )


async def offer_list(request: Request) -> Response:
    who = await admin(request)
    params = request.query_params
    notice = None
    if params.get("done") == "import":
        counts = {key: count_param(params.get(key, "")) for key in ("new", "changed", "same")}
        notice = who.texts.gettext(
            "The file was imported: {new} new, {changed} changed, {same} unchanged.", **counts
        )
    return await offers_page(request, who, notice=notice)


async def _edit_page(
    request: Request,
    who: Visitor,
    offer: Offer,
    values: dict[str, str],
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    field_problems: Sequence[str] = (),
    invalid: set[str] | frozenset[str] = frozenset(),
) -> Response:
    texts = who.texts
    shown = offers.text_in(offer, texts.language)
    today = local_today(request)
    return page(
        request,
        "offer_edit.html",
        texts,
        who,
        status=status,
        section="offers",
        title=shown.text.name if shown else offer.slug,
        offer=offer,
        values=values,
        languages=[text.language for text in offer.texts],
        language_names=texts.language_names,
        labels=field_labels(texts),
        categories=category_labels(texts),
        archived=offer.status == OfferStatus.ARCHIVED,
        ended=offer.ends_on is not None and offer.ends_on < today,
        stale=_check_due(offer, today),
        notice=notice,
        problem=problem,
        field_problems=field_problems,
        invalid=invalid,
    )


async def _admin_offer(session: AsyncSession, offer_id: int) -> Offer:
    try:
        return await offers.admin_offer(session, offer_id)
    except offers.OfferUnavailable:
        raise HTTPException(404) from None


async def offer_page(request: Request) -> Response:
    who = await admin(request)
    async with session_scope(services_of(request).sessions) as session:
        offer = await _admin_offer(session, request.path_params["offer_id"])
        return await _edit_page(
            request,
            who,
            offer,
            form_values(offer),
            notice=offer_notices(who.texts).get(request.query_params.get("done", "")),
        )


class _Refused(Exception):
    """Fields of the edit form that were refused (key and reason); nothing of the form is written."""

    def __init__(self, problems: list[tuple[str, offers.InvalidValue]]):
        super().__init__(", ".join(key for key, _ in problems))
        self.problems = problems


async def _save_changes(
    session: AsyncSession, who: Visitor, offer: Offer, form: dict[str, str], now: datetime
) -> int:
    """Check every field first; then write those whose cleaned value differs from the stored one.
    Returns how many changed; :class:`_Refused` lists every field that does not fit."""
    problems: list[tuple[str, offers.InvalidValue]] = []
    writes: list[tuple[str, str | None, str]] = []  # field, language (texts only), value
    for field in offers.OFFER_FIELDS:
        if field not in form:
            continue
        try:
            if offers.clean_offer_value(field, form[field]) != getattr(offer, field):
                writes.append((field, None, form[field]))
        except offers.InvalidValue as error:
            problems.append((field, error))
    for text in offer.texts:
        for field in offers.TEXT_FIELDS:
            key = f"text_{text.language}_{field}"
            if key not in form:
                continue
            value = form[key].replace("\r\n", "\n")
            stored = (getattr(text, field) or "").replace("\r\n", "\n").strip() or None
            try:
                if offers.clean_text_value(field, value) != stored:
                    writes.append((field, text.language, value))
            except offers.InvalidValue as error:
                problems.append((key, error))
    if problems:
        raise _Refused(problems)
    telegram_id = who.person.telegram_id
    for field, language, value in writes:
        try:
            if language is None:
                await offers.set_offer_value(session, telegram_id, offer.id, field, value, now)
            else:
                await offers.set_offer_text(session, telegram_id, offer.id, language, field, value, now)
        except offers.InvalidValue as error:
            raise _Refused([(field if language is None else f"text_{language}_{field}", error)]) from None
    return len(writes)


def _field_name(texts: DeskTexts, key: str) -> str:
    labels = field_labels(texts)
    if key.startswith("text_"):
        _, language, field = key.split("_", 2)
        return texts.gettext(
            "{field} ({language})",
            field=labels.get(field, field),
            language=texts.language_names.get(language, language),
        )
    return labels.get(key, key)


async def save_offer(request: Request) -> Response:
    """The edit form: every changed field is written, or none when one of them does not fit."""
    who = await admin(request)
    form = await checked_form(request, who)
    services = services_of(request)
    offer_id = request.path_params["offer_id"]
    try:
        async with session_scope(services.sessions) as session:
            offer = await _admin_offer(session, offer_id)
            changed = await _save_changes(session, who, offer, form, services.clock())
    except offers.NotAllowed:
        raise HTTPException(403) from None
    except _Refused as refused:
        texts = who.texts
        async with session_scope(services.sessions) as session:
            offer = await _admin_offer(session, offer_id)
            stored = form_values(offer)
            values = {key: form.get(key, value) for key, value in stored.items()}
            return await _edit_page(
                request,
                who,
                offer,
                values,
                status=400,
                problem=texts.gettext("Nothing was saved. Please correct the marked fields."),
                field_problems=[
                    invalid_value_text(texts, error, _field_name(texts, key))
                    for key, error in refused.problems
                ],
                invalid={key for key, _ in refused.problems},
            )
    return redirect(request, f"/offers/{offer_id}", done="saved" if changed else "unchanged")


async def change_offer_status(request: Request) -> Response:
    """Archive or restore."""
    who = await admin(request)
    form = await checked_form(request, who)
    status = {"archive": OfferStatus.ARCHIVED, "restore": OfferStatus.ACTIVE}.get(form.get("action", ""))
    if status is None:
        raise HTTPException(400)
    services = services_of(request)
    offer_id = request.path_params["offer_id"]
    try:
        async with session_scope(services.sessions) as session:
            await _admin_offer(session, offer_id)
            await offers.set_offer_status(session, who.person.telegram_id, offer_id, status, services.clock())
    except offers.NotAllowed:
        raise HTTPException(403) from None
    return redirect(
        request, f"/offers/{offer_id}", done="archived" if status == OfferStatus.ARCHIVED else "restored"
    )


async def verify_offer(request: Request) -> Response:
    """The admin checked the offer's details: they are still correct."""
    who = await admin(request)
    await checked_form(request, who)
    services = services_of(request)
    offer_id = request.path_params["offer_id"]
    try:
        async with session_scope(services.sessions) as session:
            await _admin_offer(session, offer_id)
            await offers.mark_verified(
                session, who.person.telegram_id, offer_id, local_today(request), services.clock()
            )
    except offers.NotAllowed:
        raise HTTPException(403) from None
    return redirect(request, f"/offers/{offer_id}", done="verified")


def routes() -> list[BaseRoute]:
    return [
        Route("/offers", offer_list),
        Route("/offers/{offer_id:id}", offer_page),
        Route("/offers/{offer_id:id}", save_offer, methods=["POST"]),
        Route("/offers/{offer_id:id}/status", change_offer_status, methods=["POST"]),
        Route("/offers/{offer_id:id}/verify", verify_offer, methods=["POST"]),
    ]
