"""The offer directory's rules: what people see, in which language, how admins keep it current."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import people, search_index
from storage.hours import HoursError, parse_hours
from storage.models import Category, Offer, OfferChange, OfferStatus, OfferText, Person, Role

FALLBACK_LANGUAGES = ("de", "en")
STALE_AFTER = timedelta(days=180)
PAGE_SIZE = 6
TEXT_FIELDS = ("name", "summary", "audience", "cost", "details")
TEXT_LIMITS = {"name": 150, "summary": 2000, "audience": 1000, "cost": 200, "details": 8000}
OFFER_FIELDS = (
    "category",
    "address",
    "hours",
    "phone",
    "email",
    "website",
    "languages",
    "barrier_free",
    "ends_on",
)
_PHONE = re.compile(r"^\+?[0-9 ()/-]{5,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)


class OfferUnavailable(LookupError):
    """The offer does not exist, was archived, or has ended."""


class NotAllowed(PermissionError):
    """The person lacks the role this operation needs."""


class InvalidValue(ValueError):
    """A value that does not fit its field. ``reason`` is a stable code the bot translates
    (empty, too_long, category, hours, phone, email, website, languages, yes_no, date, field);
    the message is the English explanation for files and logs."""

    def __init__(self, reason: str, message: str, limit: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.limit = limit


@dataclass(frozen=True)
class ShownText:
    """The text of an offer in the best available language, and whether that is a fallback."""

    text: OfferText
    fallback: bool


def is_visible(today: date) -> ColumnElement[bool]:
    """Offers refugees may see: active and not ended."""
    return and_(Offer.status == OfferStatus.ACTIVE, or_(Offer.ends_on.is_(None), Offer.ends_on >= today))


def shown_language(languages: Sequence[str], language: str) -> str | None:
    """Which of an offer's languages (in their stored order) to show: ``language``, else German, else
    English, else the first; None when there is none."""
    if language in languages:
        return language
    for fallback in FALLBACK_LANGUAGES:
        if fallback in languages:
            return fallback
    return languages[0] if languages else None


def text_in(offer: Offer, language: str) -> ShownText | None:
    """The offer's text in ``language``, else German, else English, else any."""
    by_language = {text.language: text for text in offer.texts}
    shown = shown_language(list(by_language), language)
    return ShownText(by_language[shown], fallback=shown != language) if shown is not None else None


@dataclass(frozen=True)
class FoundOffer:
    """An offer as a list of search results shows it: its id, slug and name in each language."""

    id: int
    slug: str
    names: dict[str, str]

    def name_in(self, language: str) -> tuple[str, bool]:
        """The name in ``language``, else German, else English, else any (the slug when it has no
        text), and whether that is a fallback."""
        shown = shown_language(list(self.names), language)
        return (self.names[shown], shown != language) if shown is not None else (self.slug, False)


async def category_counts(session: AsyncSession, today: date) -> dict[str, int]:
    """How many visible offers each category has (every category listed, even when empty)."""
    rows = await session.execute(
        select(Offer.category, func.count()).where(is_visible(today)).group_by(Offer.category)
    )
    counts = dict.fromkeys((category.value for category in Category), 0)
    counts.update({category: count for category, count in rows.all()})
    return counts


async def offers_in_category(
    session: AsyncSession, category: str, today: date, page: int, language: str
) -> tuple[list[Offer], int]:
    """One page of a category's visible offers, sorted by name in the person's language (else German,
    else English); also the number of pages. A page beyond the end gives the last page. Only the
    names are read to sort; only the page's offers are loaded whole."""
    if category not in {c.value for c in Category}:
        raise OfferUnavailable(category)
    preference = [language, *(code for code in FALLBACK_LANGUAGES if code != language)]
    rows = await session.execute(
        select(Offer.id, Offer.slug, OfferText.language, OfferText.name)
        .outerjoin(OfferText, (OfferText.offer_id == Offer.id) & OfferText.language.in_(preference))
        .where(is_visible(today), Offer.category == category)
    )
    names: dict[int, tuple[int, str]] = {}
    for offer_id, slug, text_language, name in rows.all():
        rank = preference.index(text_language) if text_language in preference else len(preference)
        if offer_id not in names or rank < names[offer_id][0]:
            names[offer_id] = (rank, (name or slug).casefold())
    ordered = sorted(names, key=lambda offer_id: (names[offer_id][1], offer_id))
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    wanted = ordered[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    loaded = await session.scalars(
        select(Offer).options(selectinload(Offer.texts)).where(Offer.id.in_(wanted))
    )
    by_id = {offer.id: offer for offer in loaded.all()}
    return [by_id[offer_id] for offer_id in wanted], pages


async def offer_for_people(session: AsyncSession, offer_id: int, today: date) -> Offer:
    """A visible offer with its texts, or :class:`OfferUnavailable`."""
    offer = await session.scalar(
        select(Offer).options(selectinload(Offer.texts)).where(Offer.id == offer_id, is_visible(today))
    )
    if offer is None:
        raise OfferUnavailable(offer_id)
    return offer


# ---- search ----------------------------------------------------------------------------------


async def search_offers(session: AsyncSession, query: str, today: date, limit: int = 8) -> list[FoundOffer]:
    """Visible offers matching what the person typed, best first (see :mod:`storage.search`). Building
    the whole index never holds this session's transaction. What the list shows comes from the
    index, which has just caught up with the change log: unless the session is already in a
    transaction, a search is one statement outside any transaction."""
    found = await search_index.matching_offers(session, query, today, limit)
    return [FoundOffer(offer_id, slug, names) for offer_id, slug, names in found]


# ---- admins ----------------------------------------------------------------------------------


async def require_admin(session: AsyncSession, telegram_id: int) -> Person:
    """The admin behind a request; :class:`NotAllowed` for anyone else, whatever a button says."""
    person = await people.person_by_telegram_id(session, telegram_id)
    if person is None or person.role != Role.ADMIN:
        raise NotAllowed(telegram_id)
    return person


async def admin_offer(session: AsyncSession, offer_id: int) -> Offer:
    """Any offer, archived or ended too, for an admin."""
    offer = await session.scalar(select(Offer).options(selectinload(Offer.texts)).where(Offer.id == offer_id))
    if offer is None:
        raise OfferUnavailable(offer_id)
    return offer


async def all_offers(session: AsyncSession) -> Sequence[Offer]:
    """Every offer with its texts, by slug."""
    result = await session.scalars(select(Offer).options(selectinload(Offer.texts)).order_by(Offer.slug))
    return result.all()


def _record(
    session: AsyncSession,
    offer: Offer,
    admin: Person | None,
    now: datetime,
    action: str,
    field: str | None = None,
    source: str | None = None,
) -> None:
    offer.updated_at = now
    session.add(
        OfferChange(
            offer_slug=offer.slug,
            changed_by=admin.id if admin else None,
            changed_at=now,
            action=action,
            field=field,
            source=source,
        )
    )


def clean_text_value(field: str, value: str) -> str | None:
    """A text field's value as stored; raises :class:`InvalidValue` when it does not fit."""
    value = value.strip()
    if field not in TEXT_FIELDS:
        raise InvalidValue("field", f"unknown text field {field!r}")
    if not value:
        if field in ("name", "summary"):
            raise InvalidValue("empty", f"{field} must not be empty")
        return None
    if len(value) > TEXT_LIMITS[field]:
        raise InvalidValue(
            "too_long", f"{field} is limited to {TEXT_LIMITS[field]} characters", TEXT_LIMITS[field]
        )
    return value


def clean_offer_value(field: str, value: Any) -> Any:
    """An offer field's value as stored, from text or a file; :class:`InvalidValue` if it does not fit."""
    if isinstance(value, str):
        value = value.strip()
    empty = value is None or value == "" or value == []
    if field == "category":
        if value not in {c.value for c in Category}:
            raise InvalidValue("category", f"category must be one of {', '.join(c.value for c in Category)}")
        return value
    if field == "hours":
        try:
            return parse_hours(value)
        except HoursError as error:
            raise InvalidValue("hours", str(error)) from None
    if empty:
        return None
    if field == "address":
        if len(value) > 200:
            raise InvalidValue("too_long", "address is limited to 200 characters", 200)
        return value
    if field == "phone":
        if not _PHONE.match(str(value)):
            raise InvalidValue("phone", "phone must look like +49 7150 123456")
        return str(value)
    if field == "email":
        if not _EMAIL.match(str(value)) or len(str(value)) > 120:
            raise InvalidValue("email", "email must look like name@example.org")
        return str(value)
    if field == "website":
        if not _URL.match(str(value)) or len(str(value)) > 300:
            raise InvalidValue("website", "website must be an http:// or https:// address")
        return str(value)
    if field == "languages":
        codes = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
        codes = [str(code).strip().lower() for code in codes if str(code).strip()]
        if not all(re.fullmatch(r"[a-z]{2,3}", code) for code in codes):
            raise InvalidValue("languages", "languages must be language codes like de, en, ar")
        return codes or None
    if field == "barrier_free":
        if isinstance(value, bool):
            return value
        lowered = str(value).lower()
        if lowered in ("yes", "true", "ja", "1"):
            return True
        if lowered in ("no", "false", "nein", "0"):
            return False
        raise InvalidValue("yes_no", "barrier_free must be yes or no")
    if field in ("ends_on", "last_verified"):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InvalidValue("date", f"{field} must be a date like 2026-12-31") from None
    raise InvalidValue("field", f"unknown field {field!r}")


async def set_offer_value(
    session: AsyncSession, telegram_id: int, offer_id: int, field: str, value: str, now: datetime
) -> Offer:
    """An admin changes one of the offer's own fields."""
    admin = await require_admin(session, telegram_id)
    offer = await admin_offer(session, offer_id)
    if field not in OFFER_FIELDS:
        raise InvalidValue("field", f"unknown field {field!r}")
    setattr(offer, field, clean_offer_value(field, value))
    _record(session, offer, admin, now, "edit", field)
    return offer


async def set_offer_text(
    session: AsyncSession,
    telegram_id: int,
    offer_id: int,
    language: str,
    field: str,
    value: str,
    now: datetime,
) -> Offer:
    """An admin changes one text of the offer in a language it already has (new languages come
    with a directory file, so no offer shows half a translation)."""
    admin = await require_admin(session, telegram_id)
    offer = await admin_offer(session, offer_id)
    cleaned = clean_text_value(field, value)
    text = next((text for text in offer.texts if text.language == language), None)
    if text is None:
        raise InvalidValue("language", f"the offer has no {language} texts; add them with a directory file")
    setattr(text, field, cleaned)
    _record(session, offer, admin, now, "edit", f"{field}:{language}")
    return offer


async def set_offer_status(
    session: AsyncSession, telegram_id: int, offer_id: int, status: OfferStatus, now: datetime
) -> Offer:
    """Archive or restore an offer."""
    admin = await require_admin(session, telegram_id)
    offer = await admin_offer(session, offer_id)
    if offer.status != status:
        offer.status = status
        _record(session, offer, admin, now, "archive" if status == OfferStatus.ARCHIVED else "restore")
    return offer


async def mark_verified(
    session: AsyncSession, telegram_id: int, offer_id: int, today: date, now: datetime
) -> Offer:
    """An admin confirms the offer's details are still correct."""
    admin = await require_admin(session, telegram_id)
    offer = await admin_offer(session, offer_id)
    offer.last_verified = today
    _record(session, offer, admin, now, "verify")
    return offer


async def offer_changes(session: AsyncSession, slug: str) -> Sequence[OfferChange]:
    """An offer's recorded changes, oldest first."""
    result = await session.scalars(
        select(OfferChange)
        .where(OfferChange.offer_slug == slug)
        .order_by(OfferChange.changed_at, OfferChange.id)
    )
    return result.all()


@dataclass(frozen=True)
class Freshness:
    """Offers admins should look at: not verified for 180 days, and ended ones."""

    stale: list[Offer]
    ended: list[Offer]

    @property
    def empty(self) -> bool:
        """Whether no offer needs attention."""
        return not (self.stale or self.ended)


async def offers_needing_attention(session: AsyncSession, today: date) -> Freshness:
    """Active offers not verified for ``STALE_AFTER`` and those that have ended."""
    result = await session.scalars(
        select(Offer)
        .options(selectinload(Offer.texts))
        .where(Offer.status == OfferStatus.ACTIVE)
        .order_by(Offer.slug)
    )
    offers = result.all()
    ended = [offer for offer in offers if offer.ends_on is not None and offer.ends_on < today]
    stale = [
        offer
        for offer in offers
        if offer not in ended and (offer.last_verified is None or offer.last_verified < today - STALE_AFTER)
    ]
    return Freshness(stale=stale, ended=ended)


async def admin_telegram_ids(session: AsyncSession) -> list[int]:
    """Admins who have not blocked the bot."""
    result = await session.scalars(
        select(Person.telegram_id).where(Person.role == Role.ADMIN, Person.blocked_at.is_(None))
    )
    return list(result.all())
