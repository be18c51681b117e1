"""News people asked for: how a news item reads in each language, and the job that sends the queue.

The database decides who gets what (``storage.news``); this module renders and sends. Sends go
through the bot's rate limiter (Telegram's ~30 messages/s overall), one chat gets at most one
message a second, and each outcome is recorded right after its message went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import JobQueue

from handlers.context import BotContext
from handlers.keyboards import button_label
from handlers.offers import CARD, FROM_SEARCH, offer_name
from locales import Translator
from storage import news, people
from storage.db import session_scope
from storage.models import DeliveryStatus, Offer
from storage.news import Outgoing

log = logging.getLogger(__name__)
JOB_ID = "news-dispatcher"
BATCH = 60
PARALLEL_SENDS = 30
SAME_CHAT_SPACING = 1.0
RUN_BUDGET_SECONDS = 25.0
FLUSH_SECONDS = 0.1


def news_text(t: Translator, municipality: str, body: str, *, fallback: bool) -> str:
    """A news message: the hint first when it is not in the reader's language, then the heading and
    the admin's text (plain text, escaped), and how to stop news."""
    parts = []
    if fallback:
        parts.append(
            "<i>" + t.pgettext("news", "🌐 This news is not yet translated into your language.") + "</i>"
        )
    parts.append(
        t.pgettext(
            "news",
            "📰 <b>News from the integration management in {municipality}</b>",
            municipality=municipality,
        )
    )
    parts.append(html.escape(body))
    parts.append(
        "<i>"
        + t.pgettext("news", "You get news because you asked for it. To stop it, open /privacy.")
        + "</i>"
    )
    return "\n\n".join(parts)


def body_for(texts: dict[str, str], language: str) -> tuple[str, bool]:
    """The news in the reader's language, else German; and whether that is a fallback."""
    if language in texts:
        return texts[language], False
    return texts[news.SOURCE_LANGUAGE], True


def preview(municipality: str, zone: tzinfo, language: str, texts: dict[str, str]) -> str:
    """The news as a reader of ``language`` will get it (for the admins' preview on the desk)."""
    body, fallback = body_for(texts, language)
    return news_text(Translator(language, zone), municipality, body, fallback=fallback)


def news_keyboard(t: Translator, offer: Offer | None) -> InlineKeyboardMarkup | None:
    """A button to the offer the news is about, if any."""
    if offer is None:
        return None
    label = "🗺 " + offer_name(offer, t.language)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button_label(label), callback_data=CARD.encode(offer.id, FROM_SEARCH))]]
    )


class _ChatSpacing:
    """Keeps one second between two messages to the same chat, also across batches: sends to one
    chat wait for each other, and the second waits until a second after the first was delivered."""

    def __init__(self) -> None:
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        lock = self._locks[chat_id]
        async with lock:
            if (last := self._last.get(chat_id)) is not None:
                await asyncio.sleep(max(0.0, SAME_CHAT_SPACING - (time.monotonic() - last)))
            try:
                yield
            finally:
                self._last[chat_id] = time.monotonic()
        if not lock.locked() and len(self._locks) > 10_000:
            horizon = time.monotonic() - SAME_CHAT_SPACING
            self._last = {chat: at for chat, at in self._last.items() if at >= horizon}
            busy = {chat: held for chat, held in self._locks.items() if held.locked()}
            self._locks = defaultdict(asyncio.Lock, busy)


_spacing = _ChatSpacing()


class _Outcomes:
    """Records how deliveries ended, a moment after each (every ``FLUSH_SECONDS``, in one short
    transaction), so a crash repeats no message that Telegram accepted more than that before."""

    def __init__(self, context: BotContext) -> None:
        self._context = context
        self._pending: dict[DeliveryStatus, list[int]] = defaultdict(list)
        self._requeue: list[int] = []
        self._wake = asyncio.Event()
        self._done = False

    def add(self, delivery_id: int, status: DeliveryStatus | None) -> None:
        """``None``: a passing failure, the delivery goes back to the queue."""
        if status is None:
            self._requeue.append(delivery_id)
        else:
            self._pending[status].append(delivery_id)

    async def run(self) -> None:
        while not self._done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            await self.flush()

    async def close(self) -> None:
        self._done = True
        self._wake.set()

    async def flush(self) -> None:
        pending, self._pending = self._pending, defaultdict(list)
        requeue, self._requeue = self._requeue, []
        if not pending and not requeue:
            return
        async with session_scope(self._context.runtime.sessions) as session:
            for status, ids in pending.items():
                await news.finish(session, ids, status, self._context.now())
            if requeue:
                await news.requeue(session, requeue)


async def _send_one(
    context: BotContext, item: Outgoing, offers: dict[int, Offer], outcomes: _Outcomes
) -> None:
    """Send one claimed delivery and hand its outcome to the recorder."""
    runtime = context.runtime
    t = Translator(item.language or runtime.default_language, runtime.zone)
    body, fallback = body_for(item.texts, t.language)
    try:
        async with _spacing.turn(item.telegram_id):
            await context.bot.send_message(
                item.telegram_id,
                news_text(t, runtime.municipality, body, fallback=fallback),
                reply_markup=news_keyboard(t, offers.get(item.offer_id) if item.offer_id else None),
            )
    except Forbidden as error:
        if "initiate" in error.message.lower():  # never started the bot: not a block, nothing to mark
            outcomes.add(item.delivery_id, DeliveryStatus.FAILED)
            return
        outcomes.add(item.delivery_id, DeliveryStatus.BLOCKED)
        async with session_scope(runtime.sessions) as session:
            await people.mark_blocked(session, item.telegram_id, context.now())
    except (RetryAfter, NetworkError) as error:
        log.warning("news delivery %s will be retried: %s", item.delivery_id, type(error).__name__)
        outcomes.add(item.delivery_id, None)
    except TelegramError as error:
        log.error("news delivery %s failed: %s", item.delivery_id, type(error).__name__, exc_info=error)
        outcomes.add(item.delivery_id, DeliveryStatus.FAILED)
    else:
        outcomes.add(item.delivery_id, DeliveryStatus.SENT)


async def _offers_of(context: BotContext, items: list[Outgoing]) -> dict[int, Offer]:
    ids = {item.offer_id for item in items if item.offer_id is not None}
    if not ids:
        return {}
    async with context.runtime.sessions() as session:
        found = await session.scalars(
            select(Offer).where(Offer.id.in_(ids)).options(selectinload(Offer.texts))
        )
        return {offer.id: offer for offer in found}


async def dispatch_news(context: BotContext) -> int:
    """Job: queue what is due, then keep ``PARALLEL_SENDS`` senders busy with claimed deliveries
    (claiming the next batch while the last one is on its way) within a time budget. A stopping
    application sends what it has claimed and leaves the rest queued. Returns how many deliveries
    were claimed."""
    runtime = context.runtime
    started = time.monotonic()
    async with session_scope(runtime.sessions) as session:
        await news.release_stuck(session, context.now())
        await news.queue_due(session, context.now())
    outcomes = _Outcomes(context)
    recorder = asyncio.create_task(outcomes.run())
    waiting: asyncio.Queue[tuple[Outgoing, dict[int, Offer]] | None] = asyncio.Queue(BATCH)
    claimed_total = 0

    async def claim() -> None:
        nonlocal claimed_total
        try:
            while context.application.running and time.monotonic() - started < RUN_BUDGET_SECONDS:
                async with session_scope(runtime.sessions) as session:
                    claimed = await news.claim_deliveries(session, context.now(), BATCH)
                    items = await news.load_outgoing(session, claimed, context.now())
                claimed_total += len(claimed)
                offers = await _offers_of(context, items)
                for item in items:
                    await waiting.put((item, offers))
                if len(claimed) < BATCH:
                    break
        finally:
            for _ in range(PARALLEL_SENDS):
                await waiting.put(None)

    async def send() -> None:
        while (job := await waiting.get()) is not None:
            await _send_one(context, *job, outcomes)

    try:
        await asyncio.gather(claim(), *(send() for _ in range(PARALLEL_SENDS)))
    finally:
        await outcomes.close()
        await recorder
        await outcomes.flush()
    async with session_scope(runtime.sessions) as session:
        await news.complete_finished(session)
    return claimed_total


def schedule_jobs(job_queue: JobQueue, interval_seconds: float) -> None:
    """The news dispatcher, with a fixed id so a restart never runs it twice."""
    job_queue.run_repeating(
        dispatch_news,
        interval=interval_seconds,
        first=interval_seconds,
        name=JOB_ID,
        job_kwargs={"id": JOB_ID, "replace_existing": True, "max_instances": 1, "coalesce": True},
    )
