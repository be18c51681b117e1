"""News people asked for: admins write an item (German, optionally other languages, optionally about
an offer) for every subscriber or the speakers of chosen languages, now or at a set time.

Sending works like reminders, through the database: when an item is due, one instance turns it
from ``scheduled`` to ``sending`` and queues one delivery per subscriber (unique per item and
person, so nobody is queued twice); dispatchers claim queued deliveries atomically (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL) and record each outcome right after its message went out. A crash can
therefore repeat at most the messages that were on their way at that instant: a delivery left in
``sending`` is released after :data:`STUCK_AFTER`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.consent import CURRENT_VERSIONS, Purpose
from storage.dialects import POSTGRESQL, dialect_name
from storage.models import (
    Consent,
    DeliveryStatus,
    NewsDelivery,
    NewsItem,
    NewsStatus,
    NewsText,
    Offer,
    OfferStatus,
    Person,
)
from storage.query_plans import not_by_index

SOURCE_LANGUAGE = "de"  # admins write in German; other languages are optional translations
MAX_BODY = 3000  # leaves room for the heading and hints within Telegram's 4,096 characters
STUCK_AFTER = timedelta(minutes=5)


class NewsProblem(ValueError):
    """A news item cannot be created or changed as asked; ``reason`` names why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewsContent:
    """What an admin wrote: texts per language, an optional offer, the audience."""

    texts: dict[str, str]  # language → body; German required
    offer_id: int | None = None
    languages: frozenset[str] | None = None  # None: every subscriber


def check_content(content: NewsContent, supported: Collection[str]) -> None:
    """Raise :class:`NewsProblem` unless the content can be sent as it is."""
    if not content.texts.get(SOURCE_LANGUAGE, "").strip():
        raise NewsProblem("german_missing")
    if any(language not in supported for language in content.texts):
        raise NewsProblem("unknown_language")
    if any(len(body) > MAX_BODY for body in content.texts.values()):
        raise NewsProblem("too_long")
    if content.languages is not None and (not content.languages or not content.languages <= set(supported)):
        raise NewsProblem("no_audience")


async def create_news(
    session: AsyncSession,
    content: NewsContent,
    author_id: int,
    send_at: datetime,
    now: datetime,
    supported: Collection[str],
) -> NewsItem:
    """Schedule a news item (``send_at`` at or before ``now`` sends it at the next dispatcher run)."""
    check_content(content, supported)
    if send_at < now - timedelta(minutes=1):
        raise NewsProblem("in_the_past")
    if content.offer_id is not None:
        offer = await session.get(Offer, content.offer_id)
        if offer is None or offer.status != OfferStatus.ACTIVE:
            raise NewsProblem("offer_unknown")
    item = NewsItem(
        created_by=author_id,
        created_at=now,
        offer_id=content.offer_id,
        languages=",".join(sorted(content.languages)) if content.languages is not None else None,
        send_at=max(send_at, now),
        status=NewsStatus.SCHEDULED,
    )
    session.add(item)
    await session.flush()
    for language, body in content.texts.items():
        if body.strip():
            session.add(NewsText(news_id=item.id, language=language, body=body.strip()))
    return item


async def cancel_news(session: AsyncSession, news_id: int, now: datetime) -> bool:
    """Stop an item that is scheduled or still sending; whether there was anything to stop.
    Messages already sent stay sent; queued ones are cancelled."""
    result = await session.execute(
        update(NewsItem)
        .where(NewsItem.id == news_id, NewsItem.status.in_((NewsStatus.SCHEDULED, NewsStatus.SENDING)))
        .values(status=NewsStatus.CANCELLED, cancelled_at=now)
    )
    if not result.rowcount:
        return False
    await session.execute(
        update(NewsDelivery)
        .where(NewsDelivery.news_id == news_id, NewsDelivery.status == DeliveryStatus.QUEUED)
        .values(status=DeliveryStatus.CANCELLED, finished_at=now)
    )
    return True


def _subscribed(person_id_column: object) -> object:
    """SQL: the person has a current, not withdrawn news consent."""
    return exists().where(
        Consent.person_id == person_id_column,
        Consent.purpose == Purpose.NEWS,
        Consent.text_version == CURRENT_VERSIONS[Purpose.NEWS],
        Consent.withdrawn_at.is_(None),
    )


async def queue_due(session: AsyncSession, now: datetime) -> int:
    """Turn every due scheduled item into deliveries for its subscribers; how many were queued.

    Each item is taken by one UPDATE (only one instance wins it), and deliveries are unique per
    item and person, so running this twice or on several instances queues nobody twice."""
    due = await session.scalars(
        update(NewsItem)
        .where(NewsItem.status == NewsStatus.SCHEDULED, NewsItem.send_at <= now)
        .values(status=NewsStatus.SENDING)
        .returning(NewsItem.id),
        execution_options={"synchronize_session": False},
    )
    queued = 0
    for news_id in list(due):
        item = await session.get(NewsItem, news_id)
        assert item is not None
        recipients = select(literal(news_id), Person.id, literal(DeliveryStatus.QUEUED.value)).where(
            Person.blocked_at.is_(None), _subscribed(Person.id)
        )
        if item.languages is not None:
            recipients = recipients.where(Person.language.in_(item.languages.split(",")))
        result = await session.execute(
            insert(NewsDelivery).from_select(["news_id", "person_id", "status"], recipients)
        )
        queued += int(result.rowcount or 0)
    return queued


async def claim_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` queued deliveries of items that are sending; nobody else can take them."""
    queued = (
        select(NewsDelivery.id)
        .join(NewsItem, NewsItem.id == NewsDelivery.news_id)
        .where(NewsDelivery.status == DeliveryStatus.QUEUED, NewsItem.status == NewsStatus.SENDING)
        .order_by(NewsDelivery.id)
        .limit(limit)
    )
    if dialect_name(session) == POSTGRESQL:
        queued = queued.with_for_update(of=NewsDelivery, skip_locked=True)
    result = await session.execute(
        update(NewsDelivery)
        .where(NewsDelivery.id.in_(queued.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, claimed_at=now)
        .returning(NewsDelivery.id),
        execution_options={"synchronize_session": False},
    )
    return sorted(row[0] for row in result.all())


async def release_stuck(session: AsyncSession, now: datetime) -> int:
    """Queue deliveries again that a crashed dispatcher claimed but never finished."""
    result = await session.execute(
        update(NewsDelivery)
        .where(NewsDelivery.status == DeliveryStatus.SENDING, NewsDelivery.claimed_at < now - STUCK_AFTER)
        .values(status=DeliveryStatus.QUEUED, claimed_at=None)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery with everything needed to send it."""

    delivery_id: int
    telegram_id: int
    language: str | None  # the person's language (None: the default language applies)
    texts: dict[str, str]  # the item's texts per language
    offer_id: int | None


async def load_outgoing(session: AsyncSession, delivery_ids: Sequence[int], now: datetime) -> list[Outgoing]:
    """The claimed deliveries that may still be sent, in two queries. A person who withdrew their
    consent or blocked the bot since the item was queued is skipped (and recorded so)."""
    if not delivery_ids:
        return []
    rows = (
        await session.execute(
            select(
                NewsDelivery.id, NewsDelivery.news_id, Person.telegram_id, Person.language, NewsItem.offer_id
            )
            .join(Person, Person.id == NewsDelivery.person_id)
            .join(NewsItem, NewsItem.id == NewsDelivery.news_id)
            .where(
                NewsDelivery.id.in_(delivery_ids),
                # Each delivery by its id, not every delivery of the item sent (storage.query_plans).
                not_by_index(NewsItem.status) == NewsStatus.SENDING,
                Person.blocked_at.is_(None),
                _subscribed(NewsDelivery.person_id),
            )
        )
    ).all()
    sendable = {row.id for row in rows}
    if skipped := [delivery_id for delivery_id in delivery_ids if delivery_id not in sendable]:
        await finish(session, skipped, DeliveryStatus.SKIPPED, now)
    news_ids = {row.news_id for row in rows}
    texts: dict[int, dict[str, str]] = {news_id: {} for news_id in news_ids}
    for news_id, language, body in await session.execute(
        select(NewsText.news_id, NewsText.language, NewsText.body).where(NewsText.news_id.in_(news_ids))
    ):
        texts[news_id][language] = body
    return [
        Outgoing(row.id, row.telegram_id, row.language, texts[row.news_id], row.offer_id)
        for row in sorted(rows, key=lambda row: row.id)
    ]


async def finish(
    session: AsyncSession, delivery_ids: Sequence[int], status: DeliveryStatus, now: datetime
) -> None:
    """Record how deliveries ended (sent, blocked, skipped or failed)."""
    await session.execute(
        update(NewsDelivery)
        .where(NewsDelivery.id.in_(delivery_ids), NewsDelivery.status == DeliveryStatus.SENDING)
        .values(status=status, finished_at=now)
    )


async def requeue(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    """Give deliveries back to the queue after a passing failure (network, flood limit)."""
    await session.execute(
        update(NewsDelivery)
        .where(NewsDelivery.id.in_(delivery_ids), NewsDelivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.QUEUED, claimed_at=None)
    )


async def complete_finished(session: AsyncSession) -> int:
    """Mark items as sent whose deliveries are all finished; how many."""
    open_deliveries = exists().where(
        NewsDelivery.news_id == NewsItem.id,
        NewsDelivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
    )
    result = await session.execute(
        update(NewsItem)
        .where(NewsItem.status == NewsStatus.SENDING, ~open_deliveries)
        .values(status=NewsStatus.SENT)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class NewsOverview:
    """One item as the desk lists it: when, for whom, and how far sending has come."""

    item: NewsItem
    german: str
    translated: tuple[str, ...]  # languages with their own text besides German
    counts: dict[str, int]  # delivery status → number


async def recent_news(session: AsyncSession, limit: int = 30) -> list[NewsOverview]:
    """The newest items with their delivery counts."""
    items = list(await session.scalars(select(NewsItem).order_by(NewsItem.id.desc()).limit(limit)))
    ids = [item.id for item in items]
    counts: dict[int, dict[str, int]] = {news_id: {} for news_id in ids}
    for news_id, status, number in await session.execute(
        select(NewsDelivery.news_id, NewsDelivery.status, func.count())
        .where(NewsDelivery.news_id.in_(ids))
        .group_by(NewsDelivery.news_id, NewsDelivery.status)
    ):
        counts[news_id][status] = number
    texts: dict[int, dict[str, str]] = {news_id: {} for news_id in ids}
    for news_id, language, body in await session.execute(
        select(NewsText.news_id, NewsText.language, NewsText.body).where(NewsText.news_id.in_(ids))
    ):
        texts[news_id][language] = body
    return [
        NewsOverview(
            item,
            texts[item.id].get(SOURCE_LANGUAGE, ""),
            tuple(sorted(language for language in texts[item.id] if language != SOURCE_LANGUAGE)),
            counts[item.id],
        )
        for item in items
    ]


async def subscriber_count(session: AsyncSession, languages: Collection[str] | None = None) -> int:
    """How many people would receive an item sent now (to the given languages, or to everyone)."""
    query = (
        select(func.count()).select_from(Person).where(Person.blocked_at.is_(None), _subscribed(Person.id))
    )
    if languages is not None:
        query = query.where(Person.language.in_(list(languages)))
    return int(await session.scalar(query) or 0)
