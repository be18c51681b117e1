"""The typed context every handler receives: runtime services, the person behind the update, texts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from locales import Translator
from storage.booking import BookingPolicy
from storage.crypto import CaseCipher
from storage.db import SessionFactory
from storage.pending import Waiting


@dataclass(frozen=True)
class Runtime:
    """Services built once by the composition root and shared by all handlers."""

    sessions: SessionFactory
    zone: ZoneInfo
    default_language: str
    municipality: str
    clock: Callable[[], datetime]
    policy: BookingPolicy
    retention: timedelta = timedelta(days=182)  # closed cases are anonymised after this
    cipher: CaseCipher | None = None  # reads case texts (e.g. for a person's data export)
    desk_url: str = ""  # the staff desk's public address, for sign-in links


class BotData:
    """The application-wide ``bot_data``: holds the runtime once ``bot.app`` has set it, and which
    staff command menu this process has set for whom (``handlers.commands``)."""

    __slots__ = ("runtime", "staff_menus")

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.staff_menus: dict[int, str] = {}


@dataclass(frozen=True)
class Viewer:
    """A snapshot of the person behind the current update, loaded by the gate."""

    person_id: int
    telegram_id: int
    language: str
    role: str
    language_chosen: bool
    waiting: Waiting | None = None  # for typed text: the open question it may answer (read by the gate)


class BotContext(CallbackContext[ExtBot[None], dict, dict, BotData]):
    """PTB's callback context with typed access to the runtime, the viewer and their translator."""

    __slots__ = ("_translator", "_viewer")

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self._viewer: Viewer | None = None
        self._translator: Translator | None = None

    @property
    def runtime(self) -> Runtime:
        runtime = self.bot_data.runtime
        if runtime is None:
            raise RuntimeError("the runtime is set by bot.app before the application starts")
        return runtime

    def now(self) -> datetime:
        return self.runtime.clock()

    @property
    def viewer(self) -> Viewer | None:
        return self._viewer

    @viewer.setter
    def viewer(self, viewer: Viewer) -> None:
        self._viewer = viewer
        self._translator = None

    @property
    def t(self) -> Translator:
        """The translator for the viewer's language (the default language before the gate ran)."""
        if self._translator is None:
            language = self._viewer.language if self._viewer else self.runtime.default_language
            self._translator = Translator(language, self.runtime.zone)
        return self._translator
