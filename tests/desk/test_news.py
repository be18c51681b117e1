"""Admins write news on the desk, preview it per language, send it now or later, stop it, and see
queued / sent / blocked counts; subscribers get it in the bot. Advisors and forged forms are refused."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from sqlalchemy import select

from handlers import news as news_job
from storage import consent
from storage.consent import Purpose
from storage.db import session_scope
from storage.models import NewsItem, NewsStatus, Person, Role
from tests.desk.conftest import DeskClient, csrf_of
from tests.support.harness import BotUnderTest

JONAS, ANNA = 9900, 9901
GERMAN = "Die Tafel hat ab Montag neue Öffnungszeiten."
ARABIC = "مواعيد جديدة لبنك الطعام ابتداءً من يوم الاثنين."


async def subscribe(bot: BotUnderTest, telegram_id: int, language: str) -> None:
    await bot.person(telegram_id, "P", language).send("/start")
    async with session_scope(bot.sessions) as session:
        person_id = await session.scalar(select(Person.id).where(Person.telegram_id == telegram_id))
        await consent.give_consent(session, person_id, Purpose.NEWS, language, bot.clock.current)


async def test_an_admin_previews_sends_and_sees_the_counts(bot: BotUnderTest, desk: DeskClient) -> None:
    await subscribe(bot, 9910, "ar")
    await subscribe(bot, 9911, "uk")
    client, base = await desk(JONAS, "Jonas", Role.ADMIN)
    page = await client.get(f"{base}/news")
    assert "2 Personen haben Neuigkeiten bestellt." in unescape(page.text)
    form = {
        "csrf": csrf_of(page.text),
        "text_de": GERMAN,
        "text_ar": ARABIC,
        "audience": "all",
        "when": "now",
    }

    preview = await client.post(f"{base}/news", data={**form, "action": "preview"})

    text = unescape(preview.text)
    assert preview.status_code == 200
    assert "Vorschau: 2 Personen bekommen sie" in text
    assert ARABIC in text and "هذا الخبر غير مترجم" not in text, "Arabic readers get their own text"
    assert "Цю новину ще не перекладено вашою мовою." in text, "Ukrainian readers get German with a hint"
    async with bot.sessions() as session:
        assert await session.scalar(select(NewsItem.id)) is None, "a preview sends nothing"

    sent = await client.post(f"{base}/news", data={**form, "action": "send"})
    assert sent.status_code == 303
    await bot.run_job(news_job.JOB_ID)

    assert ARABIC in bot.world.chats[9910][-1].text
    assert GERMAN in bot.world.chats[9911][-1].text
    listing = unescape((await client.get(f"{base}/news")).text).replace("\n", "").replace(" ", "")
    assert "<td>gesendet</td><td>0</td><td>2</td><td>0</td><td>0</td>" in listing


async def test_news_for_later_can_be_stopped_and_only_reaches_the_chosen_languages(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    await subscribe(bot, 9920, "ar")
    await subscribe(bot, 9921, "fa")
    client, base = await desk(JONAS, "Jonas", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/news")).text)
    later = bot.clock.current.astimezone(bot.settings.zone).replace(tzinfo=None) + timedelta(days=1)
    form = {
        "csrf": csrf,
        "text_de": GERMAN,
        "audience": "languages",
        "language": "fa",
        "when": "later",
        "send_at": later.isoformat(timespec="minutes"),
        "action": "send",
    }
    assert (await client.post(f"{base}/news", data=form)).status_code == 303
    async with bot.sessions() as session:
        item = await session.scalar(select(NewsItem))
        assert (item.status, item.languages) == (NewsStatus.SCHEDULED, "fa")

    stopped = await client.post(f"{base}/news/{item.id}/cancel", data={"csrf": csrf})
    assert stopped.status_code == 303
    async with bot.sessions() as session:
        assert await session.scalar(select(NewsItem.status)) == NewsStatus.CANCELLED
    assert "gestoppt" in (await client.get(f"{base}/news")).text


async def test_news_without_german_or_without_a_token_is_refused(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(JONAS, "Jonas", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/news")).text)

    missing = await client.post(
        f"{base}/news", data={"csrf": csrf, "text_ar": ARABIC, "when": "now", "action": "send"}
    )
    forged = await client.post(f"{base}/news", data={"text_de": GERMAN, "when": "now", "action": "send"})

    assert missing.status_code == 400
    assert "Bitte schreiben Sie die Nachricht auf Deutsch" in unescape(missing.text)
    assert forged.status_code == 403
    async with bot.sessions() as session:
        assert await session.scalar(select(NewsItem.id)) is None


async def test_advisors_are_refused_the_news_pages(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(ANNA, "Anna", Role.ADVISOR)

    assert (await client.get(f"{base}/news")).status_code == 403
    assert (await client.post(f"{base}/news/1/cancel", data={})).status_code == 403
