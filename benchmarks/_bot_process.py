"""A bot in its own process, for ``bench_production``: Wegweiser started by ``wegweiser run`` itself, a
bare default python-telegram-bot echo bot, or a send-only floor. Settings come from the
environment (``WEGWEISER_*``); the Bot API is the stand-in in the benchmark's process.

    python -m benchmarks._bot_process wegweiser [--no-rate-limiter] [--stats FILE] [--profile FILE]
    python -m benchmarks._bot_process echo [--stats FILE] [--profile FILE]
    python -m benchmarks._bot_process floor --chats FIRST COUNT --window N

``--stats FILE``: on SIGUSR1 the process writes how many SQL statements it has run so far and the
pauses of Python's cycle collector; the floor writes its CPU time and its pauses when it is done.
``--profile FILE``: a cProfile profile of the whole run, written when the process ends (SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import signal
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import collector

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import Application, ContextTypes

# The libraries are loaded by whichever bot this process becomes: Wegweiser loads them as
# ``wegweiser run`` does (``bot.entry``, the collector held off), the echo bot as a default PTB bot.

ECHO_TAP = "echo:tap"
# Collector pauses at least this long are listed one by one (a reply waits for them).
LONG_PAUSE_MS = 5.0


class CollectorPauses:
    """Every pause of Python's cycle collector in this process (all threads wait while it runs):
    how many, how long together, and each long one with its number, so that a reader of two
    snapshots can tell which fell between them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.long: list[tuple[int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._observe)

    def _observe(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.count += 1
        self.seconds += pause
        if pause * 1000 >= LONG_PAUSE_MS:
            self.long.append((self.count, round(pause * 1000, 2)))

    def figures(self) -> dict[str, Any]:
        return {"count": self.count, "seconds": self.seconds, "long": self.long}


class StatementCounter:
    """Counts every SQL statement any engine of this process runs: through SQLAlchemy, and those
    sent straight through the driver outside any transaction (the gate's claims, the search's
    change-log question), which SQLAlchemy does not see."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._count)
        # SQLAlchemy's adapters use cursors and prepared statements, never these two. Only the
        # driver of the configured database is imported, as `wegweiser run` does (asyncpg is ~3 MB).
        if os.environ.get("WEGWEISER_DATABASE_URL", "").startswith("postgresql"):
            import asyncpg

            self._count_calls(asyncpg.Connection, "fetch")
        else:
            import aiosqlite

            self._count_calls(aiosqlite.Connection, "execute_fetchall")

    def _count(self, *_args: Any) -> None:
        self.count += 1

    def _count_calls(self, owner: type, name: str) -> None:
        original = getattr(owner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(*args, **kwargs)

        setattr(owner, name, counted)

    def dump_on_signal(self, path: Path, pauses: CollectorPauses) -> None:
        def dump(_signal: int, _frame: object) -> None:
            figures = {"statements": self.count, "gc": pauses.figures(), "written": time.time()}
            path.write_text(json.dumps(figures))

        signal.signal(signal.SIGUSR1, dump)


def echo_application(token: str, api_url: str) -> Application:
    """A bare default PTB bot: echoes text with one button; a tap answers and edits the message."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        await update.effective_message.reply_text(
            update.effective_message.text,
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("tap", callback_data=ECHO_TAP)]]),
        )

    async def tapped(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"{query.message.text if query.message else ''} ✓")

    application = ApplicationBuilder().token(token).base_url(api_url).concurrent_updates(16).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(tapped))
    return application


async def send_only(
    token: str, api_url: str, first: int, count: int, window: int, stats: Path | None = None
) -> None:
    """The floor: ``count`` messages shaped like reminders (HTML text, three buttons), one per chat,
    ``window`` at a time, through the bot Wegweiser builds (same transport, same defaults) and
    nothing else: no database, no texts to translate. ``stats`` receives the CPU time the sending
    took."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.ext import Defaults, ExtBot

    from bot.request import AiohttpRequest

    defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
    bot = ExtBot(token, base_url=api_url, request=AiohttpRequest(), defaults=defaults)
    await bot.initialize()
    slots = asyncio.Semaphore(window)
    text = (
        "⏰ <b>Your consultation starts in 2 hours.</b>\n"
        "Tuesday, 3 March 2026, 09:00–10:00\n📍 Rathaus, Zimmer 3"
    )

    async def one(chat_id: int) -> None:
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("✅ I will come", callback_data=f"ap:ok:{chat_id}")],
                [
                    InlineKeyboardButton("↔ Move", callback_data=f"ap:mv:{chat_id}"),
                    InlineKeyboardButton("✖ Cancel", callback_data=f"ap:cx:{chat_id}"),
                ],
            ]
        )
        async with slots:
            await bot.send_message(chat_id, text, reply_markup=keyboard)

    pauses = CollectorPauses()
    cpu = time.process_time()
    await asyncio.gather(*(one(first + index) for index in range(count)))
    if stats is not None:
        figures = {"cpu": time.process_time() - cpu, "gc": pauses.figures(), "written": time.time()}
        stats.write_text(json.dumps(figures))
    await bot.shutdown()


def run_wegweiser(*, rate_limited: bool) -> None:
    """Exactly ``wegweiser run`` (the command's entry point, settings from the environment);
    without the rate limiter when asked, by wrapping the application builder the CLI calls."""
    if not rate_limited:
        with collector.held_off():  # as the entry point loads it
            import bot.app

        bot.app.build_application = partial(bot.app.build_application, rate_limited=False)
    from bot.entry import main as wegweiser

    status = wegweiser(["run"])
    if status:
        raise SystemExit(status)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=("wegweiser", "echo", "floor"))
    parser.add_argument("--no-rate-limiter", action="store_true")
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--chats", type=int, nargs=2, metavar=("FIRST", "COUNT"), default=(0, 0))
    parser.add_argument("--window", type=int, default=10)
    args = parser.parse_args(argv)
    token = os.environ["WEGWEISER_TELEGRAM_TOKEN"]
    api_url = os.environ["WEGWEISER_TELEGRAM_API_URL"]
    if args.kind == "floor":
        asyncio.run(send_only(token, api_url, args.chats[0], args.chats[1], args.window, args.stats))
        return
    if args.kind == "wegweiser":
        with collector.held_off():  # the counter loads SQLAlchemy and the driver
            counter = StatementCounter()
    else:
        counter = StatementCounter()
    pauses = CollectorPauses()
    if args.stats:
        counter.dump_on_signal(args.stats, pauses)
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    try:
        if args.kind == "echo":
            echo_application(token, api_url).run_polling(allowed_updates=["message", "callback_query"])
        else:
            run_wegweiser(rate_limited=not args.no_rate_limiter)
    finally:
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
