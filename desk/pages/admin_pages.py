"""The admins' pages: the offer directory (list, edit, archive and restore, verify, import and
export), staff (roles, removal, invitations) and the audit log (filters, chain check).

The rules live in ``storage``: ``storage.offers`` and ``storage.offer_files`` for the directory
(every change writes an ``OfferChange``), ``storage.people`` and ``storage.invites`` for staff,
``storage.audit`` for the chain check. This module parses forms, maps refusals and renders.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, admin, checked_form, services_of
from desk.i18n import DeskTexts
from desk.render import page
from locales.status import translation_status
from storage import audit, invites, offer_files, offers, outbox, people
from storage.db import session_scope
from storage.errors import DomainError
from storage.hours import format_hours_line
from storage.models import Category, Offer, OfferStatus, Person, Role

MAX_UPLOAD = 2 * 1024 * 1024
UPLOAD_SUFFIXES = (".yaml", ".yml", ".csv")
AUDIT_PAGE = 100
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _now(request: Request) -> datetime:
    return services_of(request).clock()


def _today(request: Request) -> date:
    services = services_of(request)
    return services.clock().astimezone(services.zone).date()


def _redirect(request: Request, path: str, **query: object) -> RedirectResponse:
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"{_root(request)}{path}{suffix}", status_code=303)


def _day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None
    return day if day is not None and EARLIEST <= day <= LATEST else None


def _count(value: str) -> int:
    """A small non-negative number from a query parameter (0 for anything else)."""
    return int(value) if value.isdigit() and len(value) <= 6 else 0


def role_labels(texts: DeskTexts) -> dict[str, str]:
    return {"advisor": texts.gettext("Advisor"), "admin": texts.gettext("Admin")}


# ---- offers ----------------------------------------------------------------------------------


def category_labels(texts: DeskTexts) -> dict[str, str]:
    return {
        Category.LANGUAGE: texts.gettext("Language courses"),
        Category.WORK: texts.gettext("Work"),
        Category.HOUSING: texts.gettext("Housing"),
        Category.HEALTH: texts.gettext("Health"),
        Category.CHILDREN: texts.gettext("Children"),
        Category.COUNSELLING: texts.gettext("Counselling"),
        Category.EVERYDAY: texts.gettext("Everyday life"),
        Category.LEISURE: texts.gettext("Leisure"),
        Category.VOLUNTEERING: texts.gettext("Volunteering"),
        Category.FAMILIES: texts.gettext("Families"),
    }


def field_labels(texts: DeskTexts) -> dict[str, str]:
    return {
        "name": texts.gettext("Name"),
        "summary": texts.gettext("Summary"),
        "audience": texts.gettext("Who it is for"),
        "cost": texts.gettext("Cost"),
        "details": texts.gettext("Details"),
        "category": texts.gettext("Category"),
        "address": texts.gettext("Address"),
        "hours": texts.gettext("Opening hours"),
        "phone": texts.gettext("Phone"),
        "email": texts.gettext("Email"),
        "website": texts.gettext("Website"),
        "languages": texts.gettext("Languages spoken"),
        "barrier_free": texts.gettext("Barrier-free"),
        "ends_on": texts.gettext("Ends on"),
    }


def offer_notices(texts: DeskTexts) -> dict[str, str]:
    return {
        "saved": texts.gettext("The offer was saved."),
        "unchanged": texts.gettext("Nothing was changed."),
        "archived": texts.gettext("The offer was archived: people no longer see it."),
        "restored": texts.gettext("The offer was restored: people see it again."),
        "verified": texts.gettext("The offer is marked as checked today."),
    }


def invalid_value_text(texts: DeskTexts, error: offers.InvalidValue, field: str) -> str:
    """Why a value was refused, as a whole sentence naming the field."""
    messages = {
        "empty": texts.gettext("“{field}” must not be empty.", field=field),
        "too_long": texts.gettext(
            "“{field}” is too long: at most {limit} characters.", field=field, limit=error.limit or 0
        ),
        "category": texts.gettext("Please choose one of the listed categories."),
        "hours": texts.gettext(
            "“{field}” cannot be read. Write opening hours like: "
            "mon 09:00-12:00, 14:00-16:00; tue 10:00-12:00",
            field=field,
        ),
        "phone": texts.gettext(
            "“{field}” does not look like a phone number, for example +49 7150 123456.", field=field
        ),
        "email": texts.gettext(
            "“{field}” does not look like an email address, for example name@example.org.", field=field
        ),
        "website": texts.gettext(
            "“{field}” must be an address starting with http:// or https://.", field=field
        ),
        "languages": texts.gettext(
            "“{field}”: please write language codes separated by commas, for example de, en, ar.", field=field
        ),
        "yes_no": texts.gettext("Please choose yes, no or unknown for “{field}”.", field=field),
        "date": texts.gettext("“{field}” must be a date.", field=field),
    }
    return messages.get(error.reason, texts.gettext("“{field}” cannot be changed here.", field=field))


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


def translation_labels(texts: DeskTexts) -> dict[str, str]:
    """The review states of locales/status.yaml as admins read them."""
    return {
        "source": texts.gettext("source texts"),
        "machine-assisted": texts.gettext("machine-assisted, review needed"),
        "reviewed": texts.gettext("reviewed by a native speaker"),
    }


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


async def _offers_page(
    request: Request,
    who: Visitor,
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    import_problems: Sequence[offer_files.Problem] = (),
) -> Response:
    async with session_scope(services_of(request).sessions) as session:
        rows = await _offer_rows(session, who.texts, _today(request))
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
        counts = {key: _count(params.get(key, "")) for key in ("new", "changed", "same")}
        notice = who.texts.gettext(
            "The file was imported: {new} new, {changed} changed, {same} unchanged.", **counts
        )
    return await _offers_page(request, who, notice=notice)


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
    today = _today(request)
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
    return _redirect(request, f"/offers/{offer_id}", done="saved" if changed else "unchanged")


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
    return _redirect(
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
                session, who.person.telegram_id, offer_id, _today(request), services.clock()
            )
    except offers.NotAllowed:
        raise HTTPException(403) from None
    return _redirect(request, f"/offers/{offer_id}", done="verified")


async def import_file(request: Request) -> Response:
    """Upload a directory file: every offer in it is checked first, and all are imported or none."""
    who = await admin(request)
    await checked_form(request, who)
    upload = (await request.form()).get("file")
    texts = who.texts
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _offers_page(request, who, status=400, problem=texts.gettext("Please choose a file."))
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        problem = texts.gettext("Please upload a .yaml, .yml or .csv file.")
        return await _offers_page(request, who, status=400, problem=problem)
    content = await upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        problem = texts.gettext("The file is too large: at most 2 MB.")
        return await _offers_page(request, who, status=400, problem=problem)
    services = services_of(request)
    try:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"upload{suffix}"
            path.write_bytes(content)
            async with session_scope(services.sessions) as session:
                result = await offer_files.import_offers(
                    session, path, services.clock(), source="desk import", changed_by=who.person.id
                )
    except offer_files.ImportRejected as rejected:
        problem = texts.ngettext(
            "The file has {n} problem. Nothing was imported.",
            "The file has {n} problems. Nothing was imported.",
            len(rejected.problems),
        )
        return await _offers_page(
            request, who, status=400, problem=problem, import_problems=rejected.problems
        )
    except (UnicodeDecodeError, csv.Error):
        problem = texts.gettext(
            "The file cannot be read. Please upload a UTF-8 text file. Nothing was imported."
        )
        return await _offers_page(request, who, status=400, problem=problem)
    return _redirect(
        request,
        "/offers",
        done="import",
        new=len(result.created),
        changed=len(result.updated),
        same=len(result.unchanged),
    )


async def export_file(request: Request) -> Response:
    """The whole directory, archived offers too, as the file format the import reads."""
    await admin(request)
    suffix = request.path_params["suffix"]
    if suffix not in ("yaml", "csv"):
        raise HTTPException(404)
    services = services_of(request)
    today = _today(request)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"offers.{suffix}"
        async with session_scope(services.sessions) as session:
            await offer_files.export_offers(session, path, today)
        content = path.read_bytes()
    media_type = "text/csv; charset=utf-8" if suffix == "csv" else "application/yaml; charset=utf-8"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="wegweiser-offers-{today.isoformat()}.{suffix}"'
        },
    )


# ---- staff -----------------------------------------------------------------------------------


def staff_notices(texts: DeskTexts) -> dict[str, str]:
    return {
        "role": texts.gettext("The role was changed."),
        "removed": texts.gettext("The staff member was removed. Their desk sessions have ended."),
        "withdrawn": texts.gettext("The invitation was withdrawn."),
    }


async def _staff_page(
    request: Request,
    who: Visitor,
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    invite_link: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        staff = await people.list_staff(session)
        waiting = await invites.open_invites(session, services.clock())
        undelivered = {entry.person_id: entry for entry in await outbox.undelivered(session)}
    return page(
        request,
        "staff.html",
        who.texts,
        who,
        status=status,
        section="staff",
        title=who.texts.gettext("Staff"),
        staff=staff,
        invites=waiting,
        undelivered=undelivered,
        roles=role_labels(who.texts),
        invite_link=invite_link,
        form=form or {},
        notice=notice,
        problem=problem,
    )


async def staff_list(request: Request) -> Response:
    who = await admin(request)
    notice = staff_notices(who.texts).get(request.query_params.get("done", ""))
    return await _staff_page(request, who, notice=notice)


async def _staff_member(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or not person.is_staff:
        raise HTTPException(404)
    return person


async def change_role(request: Request) -> Response:
    who = await admin(request)
    form = await checked_form(request, who)
    person_id = request.path_params["person_id"]
    role = form.get("role", "")
    if role not in (Role.ADVISOR, Role.ADMIN):
        return await _staff_page(request, who, status=400, problem=who.texts.gettext("Please choose a role."))
    services = services_of(request)
    try:
        async with session_scope(services.sessions) as session:
            await _staff_member(session, person_id)
            await people.change_staff_role(session, who.person.id, person_id, Role(role), services.clock())
    except DomainError as error:
        return await _staff_refusal(request, who, error)
    return _redirect(request, "/staff", done="role")


async def _staff_refusal(request: Request, who: Visitor, error: DomainError) -> Response:
    """Why a staff change was refused (storage.people's rules), in the admin's language."""
    if error.reason == "own_role":
        # Admins do not change or remove their own role: the last admin could lock everyone out.
        problem = who.texts.gettext(
            "You cannot change or remove your own role. Another admin can do that for you."
        )
    else:
        problem = who.texts.gettext("This change is not possible. Nothing was changed.")
    return await _staff_page(request, who, status=400, problem=problem)


async def remove_member(request: Request) -> Response:
    """Take the staff role away; their desk sessions, sign-in links and calendar address end."""
    who = await admin(request)
    await checked_form(request, who)
    person_id = request.path_params["person_id"]
    try:
        async with session_scope(services_of(request).sessions) as session:
            await _staff_member(session, person_id)
            await people.remove_staff_member(session, who.person.id, person_id)
    except DomainError as error:
        return await _staff_refusal(request, who, error)
    return _redirect(request, "/staff", done="removed")


async def create_invite(request: Request) -> Response:
    """A single-use invitation link for Telegram, shown once."""
    who = await admin(request)
    form = await checked_form(request, who)
    services = services_of(request)
    texts = who.texts
    if not services.bot_username:
        problem = texts.gettext(
            "Invitations need the bot's username, which is not known yet. Please try again later."
        )
        return await _staff_page(request, who, status=503, problem=problem, form=form)
    try:
        async with session_scope(services.sessions) as session:
            token = await invites.create_invite(
                session, who.person.id, form.get("role", ""), form.get("name", ""), services.clock()
            )
    except invites.NotAllowed:
        raise HTTPException(403) from None
    except invites.InvalidInvite as invalid:
        problem = (
            texts.gettext("Please choose a role.")
            if invalid.reason == "role"
            else texts.gettext("Please enter a name of 1 to 100 characters.")
        )
        return await _staff_page(request, who, status=400, problem=problem, form=form)
    link = f"https://t.me/{services.bot_username}?start=invite_{token}"
    return await _staff_page(request, who, invite_link=link)


async def withdraw_invite(request: Request) -> Response:
    who = await admin(request)
    await checked_form(request, who)
    try:
        async with session_scope(services_of(request).sessions) as session:
            found = await invites.withdraw_invite(session, who.person.id, request.path_params["invite_id"])
    except invites.NotAllowed:
        raise HTTPException(403) from None
    if not found:
        raise HTTPException(404)
    return _redirect(request, "/staff", done="withdrawn")


# ---- audit log -------------------------------------------------------------------------------


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
        start=_day(params.get("from")),
        end=_day(params.get("to")),
        page=_count(params.get("page", "")),
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
    return [
        Route("/offers", offer_list),
        Route("/offers/import", import_file, methods=["POST"]),
        Route("/offers/export.{suffix}", export_file),
        Route("/offers/{offer_id:int}", offer_page),
        Route("/offers/{offer_id:int}", save_offer, methods=["POST"]),
        Route("/offers/{offer_id:int}/status", change_offer_status, methods=["POST"]),
        Route("/offers/{offer_id:int}/verify", verify_offer, methods=["POST"]),
        Route("/staff", staff_list),
        Route("/staff/invite", create_invite, methods=["POST"]),
        Route("/staff/invites/{invite_id:int}/withdraw", withdraw_invite, methods=["POST"]),
        Route("/staff/{person_id:int}/role", change_role, methods=["POST"]),
        Route("/staff/{person_id:int}/remove", remove_member, methods=["POST"]),
        Route("/audit", audit_log),
        Route("/audit/check", check_chain, methods=["POST"]),
    ]
