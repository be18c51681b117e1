"""News people asked for, sent through the sandbox: everyone who subscribed gets each item exactly
once, also when the bot restarts in the middle of sending; in their language or in German with
a hint; with a button to the offer it is about."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from handlers import news as news_job
from handlers.keyboards import button_label
from handlers.news import news_text
from handlers.offer_cards import offer_name
from locales import SUPPORTED_LANGUAGES, Translator
from storage import consent, news
from storage.consent import CURRENT_VERSIONS, Purpose
from storage.db import session_scope
from storage.models import Consent, DeliveryStatus, NewsDelivery, NewsItem, NewsStatus, Offer, Person, Role
from storage.news import NewsContent
from tests.support.harness import BotUnderTest

SUBSCRIBERS = range(20_000, 22_000)
NOT_SUBSCRIBED, BLOCKED = 23_000, 23_001
GERMAN = "Neuer Deutschkurs ab Montag in der VHS Hemmingen. Anmeldung im Rathaus."
ARABIC = "دورة جديدة للغة الألمانية تبدأ يوم الاثنين في VHS Hemmingen."


def language_of(telegram_id: int) -> str:
    return SUPPORTED_LANGUAGES[telegram_id % len(SUPPORTED_LANGUAGES)]


async def seed_subscribers(bot: BotUnderTest) -> None:
    """2,000 subscribers in ten languages, one person without the consent and one who blocked."""
    now = bot.clock.current
    everyone = [*SUBSCRIBERS, NOT_SUBSCRIBED, BLOCKED]
    for telegram_id in everyone:
        bot.world.add_person(telegram_id, "P", language_of(telegram_id)).started = True
    async with session_scope(bot.sessions) as session:
        await session.execute(
            insert(Person),
            [
                {
                    "telegram_id": telegram_id,
                    "language": language_of(telegram_id),
                    "role": Role.REFUGEE,
                    "first_seen": now,
                    "last_seen": now,
                    "blocked_at": now if telegram_id == BLOCKED else None,
                }
                for telegram_id in everyone
            ],
        )
        ids = dict((await session.execute(select(Person.telegram_id, Person.id))).all())
        await session.execute(
            insert(Consent),
            [
                {
                    "person_id": ids[telegram_id],
                    "purpose": Purpose.NEWS,
                    "text_version": CURRENT_VERSIONS[Purpose.NEWS],
                    "language": language_of(telegram_id),
                    "given_at": now,
                    "given_how": "chat",
                }
                for telegram_id in [*SUBSCRIBERS, BLOCKED]
            ],
        )


def received(bot: BotUnderTest, telegram_id: int) -> list[str]:
    return [message.html for message in bot.world.chats[telegram_id] if message.sender == "bot"]


def delivered(bot: BotUnderTest) -> int:
    return sum(len(received(bot, telegram_id)) for telegram_id in SUBSCRIBERS)


def trigger_dispatcher(bot: BotUnderTest) -> None:
    """Let the JobQueue run the news dispatcher now, as its interval would."""
    assert bot.application is not None and bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name(news_job.JOB_ID)
    job.job.modify(next_run_time=datetime.now(UTC))


async def wait_until(condition, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def open_deliveries(bot: BotUnderTest) -> int:
    async with bot.sessions() as session:
        return await session.scalar(
            select(func.count())
            .select_from(NewsDelivery)
            .where(NewsDelivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)))
        )


@pytest.mark.unlimited_rate
async def test_every_subscriber_gets_the_news_once_across_a_restart(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(news_job, "RUN_BUDGET_SECONDS", 600.0)
    await seed_subscribers(bot)
    await bot.make_staff(9000, Role.ADMIN, "Jonas")
    async with session_scope(bot.sessions) as session:
        author = await session.scalar(select(Person.id).where(Person.telegram_id == 9000))
        content = NewsContent({"de": GERMAN, "ar": ARABIC})
        await news.create_news(
            session, content, author, bot.clock.current, bot.clock.current, SUPPORTED_LANGUAGES
        )

    trigger_dispatcher(bot)
    await wait_until(lambda: delivered(bot) >= 600)
    await bot.restart()  # the dispatcher finishes the messages on their way, the rest stays queued
    in_the_middle = delivered(bot)
    assert 600 <= in_the_middle < len(SUBSCRIBERS), "the restart came in the middle of sending"
    assert await open_deliveries(bot) == len(SUBSCRIBERS) - in_the_middle

    trigger_dispatcher(bot)
    await wait_until(lambda: delivered(bot) >= len(SUBSCRIBERS))
    await bot.run_job(news_job.JOB_ID)  # one more run finds nothing left and closes the item

    counts = {telegram_id: len(received(bot, telegram_id)) for telegram_id in SUBSCRIBERS}
    assert set(counts.values()) == {1}, "each subscriber got it exactly once"
    assert received(bot, NOT_SUBSCRIBED) == [] and received(bot, BLOCKED) == []
    async with bot.sessions() as session:
        statuses = dict(
            (
                await session.execute(select(NewsDelivery.status, func.count()).group_by(NewsDelivery.status))
            ).all()
        )
        assert statuses == {DeliveryStatus.SENT: len(SUBSCRIBERS)}
        assert await session.scalar(select(NewsItem.status)) == NewsStatus.SENT

    zone = bot.settings.zone
    arabic_reader = next(n for n in SUBSCRIBERS if language_of(n) == "ar")
    ukrainian_reader = next(n for n in SUBSCRIBERS if language_of(n) == "uk")
    assert received(bot, arabic_reader) == [
        news_text(Translator("ar", zone), "Hemmingen", ARABIC, fallback=False)
    ]
    assert received(bot, ukrainian_reader) == [
        news_text(Translator("uk", zone), "Hemmingen", GERMAN, fallback=True)
    ]


async def test_news_about_an_offer_has_a_button_that_opens_it(bot: BotUnderTest) -> None:
    await bot.load_offers()
    reader = bot.person(24_000, "Olena", "uk")
    await reader.send("/start")
    async with session_scope(bot.sessions) as session:
        person_id = await session.scalar(select(Person.id).where(Person.telegram_id == 24_000))
        await consent.give_consent(session, person_id, Purpose.NEWS, "uk", bot.clock.current)
        offer = await session.scalar(
            select(Offer).order_by(Offer.id).limit(1).options(selectinload(Offer.texts))
        )
        name = offer_name(offer, "uk")
        await news.create_news(
            session,
            NewsContent({"de": "Neue Öffnungszeiten"}, offer_id=offer.id),
            person_id,
            bot.clock.current,
            bot.clock.current,
            SUPPORTED_LANGUAGES,
        )

    await bot.run_job(news_job.JOB_ID)
    message = reader.last
    assert "Neue Öffnungszeiten" in message.text
    assert [button["text"] for button in message.buttons] == [button_label(f"🗺 {name}")]

    await reader.tap(button_label(f"🗺 {name}"), message)

    assert reader.last_query.answered
    assert reader.last.text.startswith(name), "the offer's card"


async def news_consent(bot: BotUnderTest, telegram_id: int) -> list[tuple[str, str | None]]:
    async with bot.sessions() as session:
        person_id = await session.scalar(select(Person.id).where(Person.telegram_id == telegram_id))
        rows = await session.execute(
            select(Consent.text_version, Consent.withdrawn_at).where(
                Consent.person_id == person_id, Consent.purpose == Purpose.NEWS
            )
        )
        return [(version, withdrawn and withdrawn.isoformat()) for version, withdrawn in rows.all()]


async def test_people_ask_for_news_in_privacy_and_stop_it_with_one_tap(bot: BotUnderTest) -> None:
    olena = bot.person(25_000, "Olena", "uk")
    await olena.send("/start")
    (privacy,) = await olena.send("/privacy")

    await olena.tap("📰 Отримувати новини", privacy)
    assert "Служба інтеграції громади Hemmingen може час від часу" in olena.last.text
    await olena.tap("✅ Так, надсилайте мені новини")

    assert olena.last_query.answered and olena.last_query.answer_text == "Новини увімкнено"
    assert await news_consent(bot, 25_000) == [(CURRENT_VERSIONS[Purpose.NEWS], None)]

    (privacy,) = await olena.send("/privacy")
    assert "Новини від служби інтеграції" in privacy.text
    assert "📰 Отримувати новини" not in [button["text"] for button in privacy.buttons]
    await olena.tap("✖ Зупинити новини", privacy)

    assert "Ви більше не отримуватимете новин." in olena.last.text
    ((_, withdrawn),) = await news_consent(bot, 25_000)
    assert withdrawn is not None
    (again,) = await olena.send("/news")
    assert "✅ Так, надсилайте мені новини" in [button["text"] for button in again.buttons]
