"""News on SQLite and PostgreSQL: who is queued, that nobody is queued or claimed twice, cancelling,
and that a withdrawn consent or a block stops a queued message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from locales import SUPPORTED_LANGUAGES
from storage import consent, news
from storage.consent import Purpose
from storage.db import SessionFactory, session_scope
from storage.models import DeliveryStatus, NewsDelivery, NewsItem, NewsStatus, Person
from storage.news import NewsContent, NewsProblem
from tests.support.case_data import add_person

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def subscriber(session, telegram_id: int, language: str, *, subscribed: bool = True) -> Person:
    person = await add_person(session, telegram_id)
    person.language = language
    if subscribed:
        await consent.give_consent(session, person.id, Purpose.NEWS, language, NOW)
    return person


async def schedule(sessions: SessionFactory, content: NewsContent, send_at: datetime = NOW) -> int:
    async with session_scope(sessions) as session:
        author = await add_person(session, 1, "Jonas Keller")
        item = await news.create_news(session, content, author.id, send_at, NOW, SUPPORTED_LANGUAGES)
        return item.id


async def deliveries(sessions: SessionFactory) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(
            select(Person.telegram_id, NewsDelivery.status).join(Person, Person.id == NewsDelivery.person_id)
        )
        return dict(rows.all())


async def test_subscribers_of_the_chosen_languages_are_queued_once(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await subscriber(session, 100, "ar")
        await subscriber(session, 101, "uk")
        await subscriber(session, 102, "de")
        await subscriber(session, 103, "ar", subscribed=False)
        (await subscriber(session, 104, "ar")).blocked_at = NOW
    await schedule(sessions, NewsContent({"de": "Neuer Sprachkurs"}, languages=frozenset({"ar", "uk"})))

    async with session_scope(sessions) as session:
        first = await news.queue_due(session, NOW)
    async with session_scope(sessions) as session:
        second = await news.queue_due(session, NOW)

    assert (first, second) == (2, 0)
    assert await deliveries(sessions) == {100: "queued", 101: "queued"}


async def test_an_item_waits_for_its_time(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await subscriber(session, 100, "ar")
    await schedule(sessions, NewsContent({"de": "Morgen"}), send_at=NOW + timedelta(hours=3))

    async with session_scope(sessions) as session:
        assert await news.queue_due(session, NOW + timedelta(hours=2)) == 0
        assert await news.queue_due(session, NOW + timedelta(hours=3)) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (NewsContent({"ar": "بدون ألمانية"}), "german_missing"),
        (NewsContent({"de": "   "}), "german_missing"),
        (NewsContent({"de": "x" * 3001}), "too_long"),
        (NewsContent({"de": "Hallo", "xx": "?"}), "unknown_language"),
        (NewsContent({"de": "Hallo"}, languages=frozenset()), "no_audience"),
        (NewsContent({"de": "Hallo"}, languages=frozenset({"ja"})), "no_audience"),
        (NewsContent({"de": "Hallo"}, offer_id=999), "offer_unknown"),
    ],
)
async def test_news_that_cannot_be_sent_is_refused_with_its_reason(
    sessions: SessionFactory, content: NewsContent, reason: str
) -> None:
    with pytest.raises(NewsProblem) as refused:
        await schedule(sessions, content)
    assert refused.value.reason == reason
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NewsItem)) == 0


async def test_claims_never_overlap_and_outcomes_are_recorded(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        for n in range(40):
            await subscriber(session, 200 + n, "de")
    await schedule(sessions, NewsContent({"de": "Hallo"}))
    async with session_scope(sessions) as session:
        await news.queue_due(session, NOW)

    async def claim() -> list[int]:
        async with session_scope(sessions) as session:
            return await news.claim_deliveries(session, NOW, 15)

    batches = await asyncio.gather(*(claim() for _ in range(4)))
    claimed = [delivery for batch in batches for delivery in batch]

    assert len(claimed) == len(set(claimed)) == 40
    async with session_scope(sessions) as session:
        outgoing = await news.load_outgoing(session, claimed, NOW)
        await news.finish(session, [item.delivery_id for item in outgoing], DeliveryStatus.SENT, NOW)
        assert await news.complete_finished(session) == 1
    assert set((await deliveries(sessions)).values()) == {"sent"}


async def test_a_withdrawn_consent_or_a_block_stops_a_queued_message(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        leaving = await subscriber(session, 300, "fa")
        blocking = await subscriber(session, 301, "fa")
        await subscriber(session, 302, "fa")
    await schedule(sessions, NewsContent({"de": "Hallo", "fa": "سلام"}))
    async with session_scope(sessions) as session:
        await news.queue_due(session, NOW)
        await consent.withdraw_consent(session, leaving.id, Purpose.NEWS, NOW)
        (await session.get(Person, blocking.id)).blocked_at = NOW

    async with session_scope(sessions) as session:
        claimed = await news.claim_deliveries(session, NOW, 10)
        outgoing = await news.load_outgoing(session, claimed, NOW)

    assert [(item.telegram_id, item.texts) for item in outgoing] == [(302, {"de": "Hallo", "fa": "سلام"})]
    assert await deliveries(sessions) == {300: "skipped", 301: "skipped", 302: "sending"}


async def test_cancelling_stops_what_is_still_queued(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        for n in range(5):
            await subscriber(session, 400 + n, "tr")
    news_id = await schedule(sessions, NewsContent({"de": "Hallo"}))
    async with session_scope(sessions) as session:
        await news.queue_due(session, NOW)
        claimed = await news.claim_deliveries(session, NOW, 2)
        await news.finish(session, claimed, DeliveryStatus.SENT, NOW)

    async with session_scope(sessions) as session:
        assert await news.cancel_news(session, news_id, NOW)
        assert not await news.cancel_news(session, news_id, NOW), "nothing left to stop"
        assert await news.claim_deliveries(session, NOW, 10) == []
        (overview,) = await news.recent_news(session)

    assert overview.item.status == NewsStatus.CANCELLED
    assert overview.counts == {"sent": 2, "cancelled": 3}


async def test_a_delivery_left_sending_by_a_crash_is_queued_again_later(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await subscriber(session, 500, "ku")
    await schedule(sessions, NewsContent({"de": "Hallo"}))
    async with session_scope(sessions) as session:
        await news.queue_due(session, NOW)
        (claimed,) = await news.claim_deliveries(session, NOW, 10)

    async with session_scope(sessions) as session:
        assert await news.release_stuck(session, NOW + timedelta(minutes=4)) == 0
        assert await news.release_stuck(session, NOW + timedelta(minutes=6)) == 1
        assert await news.claim_deliveries(session, NOW + timedelta(minutes=6), 10) == [claimed]


async def test_subscribers_are_counted_for_the_preview(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await subscriber(session, 600, "ar")
        await subscriber(session, 601, "ti")
        await subscriber(session, 602, "ti", subscribed=False)

    async with sessions() as session:
        assert await news.subscriber_count(session) == 2
        assert await news.subscriber_count(session, ["ti"]) == 1
