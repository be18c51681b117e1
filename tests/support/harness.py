"""The bot under test: the real PTB Application talking HTTP to the sandbox on 127.0.0.1.

Simulated people type and tap through the sandbox's person side; every action waits until the
Application has finished processing the resulting update, so tests assert on a settled state.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Update
from telegram.ext import Application

from bot.app import build_application, desk_services, polling
from bot.config import Settings, load_settings
from bot.sandbox import ChatMessage, RunningSandbox, World
from desk.app import create_desk
from storage import audit, offer_files, people
from storage.db import SessionFactory, create_engine, create_session_factory, session_scope
from storage.models import Role

PROCESSING_TIMEOUT = 15.0
TEST_CASE_KEY = "0Hn1MHk7nZq5Xk3b7aQ8mJ8b3n0pD0Wg2h1mYxk3QeU="  # a fixed Fernet key for tests only
TEST_AUDIT_KEY = "test-audit-key-for-tests-only-0123456789"  # signs the audit chain in tests
OFFERS_FIXTURE = Path(__file__).parent.parent / "fixtures" / "offers.yaml"


class TrackingApplication(Application):
    """An Application that reports when it has finished processing each update."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.processed: dict[int, asyncio.Event] = {}

    def done_event(self, update_id: int) -> asyncio.Event:
        return self.processed.setdefault(update_id, asyncio.Event())

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update):
                self.done_event(update.update_id).set()


@dataclass
class Clock:
    """A controllable clock for the bot: starts at a fixed instant, moves only when told."""

    current: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class BotUnderTest:
    """The running bot, its sandbox world, its database and its clock."""

    def __init__(self, running: RunningSandbox, world: World, settings: Settings, clock: Clock):
        self.running = running
        self.world = world
        self.settings = settings
        self.clock = clock
        self.application: TrackingApplication | None = None
        self._stack: AsyncExitStack | None = None
        self._engine = create_engine(settings.resolved_database_url())
        self.sessions: SessionFactory = audit.use_keys(
            create_session_factory(self._engine), settings.audit_keys()
        )

    async def start(self) -> None:
        application = build_application(
            self.settings, clock=self.clock, application_class=TrackingApplication
        )
        assert isinstance(application, TrackingApplication)
        self._stack = AsyncExitStack()
        await self._stack.enter_async_context(polling(application, poll_timeout=5))
        self.application = application
        runtime = application.bot_data.runtime
        assert runtime is not None
        self.running.mount("/desk", create_desk(desk_services(runtime, application.bot.username)))

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self.application = None

    async def restart(self) -> None:
        """Stop the Application and start a fresh one on the same database and sandbox."""
        await self.stop()
        await self.start()

    async def close(self) -> None:
        await self.stop()
        await self._engine.dispose()

    async def processed(self, update_id: int) -> None:
        assert self.application is not None, "the bot is not running"
        await asyncio.wait_for(self.application.done_event(update_id).wait(), PROCESSING_TIMEOUT)

    async def load_offers(self, path: Path = OFFERS_FIXTURE) -> None:
        """Import an offer directory file into the bot's database."""
        async with session_scope(self.sessions) as session:
            await offer_files.import_offers(session, path, self.clock.current)

    async def make_staff(self, telegram_id: int, role: Role, name: str) -> None:
        async with session_scope(self.sessions) as session:
            await people.add_staff(session, telegram_id, role, name, self.clock.current)

    async def run_job(self, name: str) -> None:
        """Run a scheduled job now, as the JobQueue would, with the test clock's time."""
        assert self.application is not None and self.application.job_queue is not None
        (job,) = self.application.job_queue.get_jobs_by_name(name)
        await job.run(self.application)

    def person(
        self, person_id: int = 1001, first_name: str = "Amira", language_code: str | None = "ar"
    ) -> SimulatedPerson:
        self.world.add_person(person_id, first_name, language_code)
        return SimulatedPerson(self, person_id)


class SimulatedPerson:
    """One person on their phone: types, taps, and reads their chat."""

    def __init__(self, bot: BotUnderTest, person_id: int):
        self.bot = bot
        self.id = person_id

    @property
    def chat(self) -> list[ChatMessage]:
        return self.bot.world.chats[self.id]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [message for message in self.chat if message.sender == "bot"]

    @property
    def last(self) -> ChatMessage:
        """The newest bot message."""
        messages = self.bot_messages
        assert messages, "the bot has not said anything"
        return messages[-1]

    async def send(self, text: str) -> list[ChatMessage]:
        """Type a message; returns the bot messages that arrived in answer."""
        before = len(self.chat)
        update_id = await self.bot.world.person_sends(self.id, text)
        await self.bot.processed(update_id)
        return [message for message in self.chat[before:] if message.sender == "bot"]

    async def tap(self, label_or_data: str, message: ChatMessage | None = None) -> ChatMessage:
        """Tap a button (by its exact label or callback data) on a bot message (default: the newest
        message that has it); returns the tapped message as it looks afterwards."""
        candidates = [message] if message else list(reversed(self.bot_messages))
        for candidate in candidates:
            for button in candidate.buttons:
                if "callback_data" in button and label_or_data in (button["text"], button["callback_data"]):
                    return await self.tap_data(candidate, button["callback_data"])
        labels = [button["text"] for candidate in candidates for button in candidate.buttons]
        raise AssertionError(f"no button {label_or_data!r}; visible buttons: {labels}")

    async def tap_data(self, message: ChatMessage, data: str, *, forged: bool = False) -> ChatMessage:
        update_id, query_id = await self.bot.world.person_taps(
            self.id, message.message_id, data, forged=forged
        )
        await self.bot.processed(update_id)
        self.last_query = self.bot.world.callback_queries[query_id]
        return message

    async def block(self) -> None:
        await self.bot.processed(await self.bot.world.person_blocks(self.id))


def settings_for(database_url: str, api_url: str, token: str, data_dir: str) -> Settings:
    return load_settings(
        telegram_token=token,
        telegram_api_url=api_url,
        database_url=database_url,
        data_dir=data_dir,
        timezone="Europe/Berlin",
        default_language="de",
        # Tests run the reminder dispatcher themselves, at the clock time they choose.
        reminder_interval_seconds=3600,
        desk_url=api_url.removesuffix("/bot") + "/desk",
        case_data_key=TEST_CASE_KEY,
        audit_key=TEST_AUDIT_KEY,
    )
