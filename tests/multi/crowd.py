"""Simulated people on their phones, for the multi-instance proof: they browse offers, book, move
and cancel through the sandbox, each waiting for the bot's answer before the next step, as people
do. A step that is never answered (its instance was killed while handling it) is given up after
``patience`` seconds, and the person carries on."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox import ChatMessage, World
from handlers import appointments as mine
from handlers import booking as flow
from handlers import offers

Matcher = Callable[[str], bool]


def action(kind: object, first_field: str | None = None) -> Matcher:
    """Buttons of one kind (a ``handlers.callbacks.Action``), optionally with a given first field."""

    def matches(data: str) -> bool:
        fields = kind.decode(data)  # type: ignore[attr-defined]
        return fields is not None and (first_field is None or fields[0] == first_field)

    return matches


@dataclass
class Phone:
    """One person's phone: sends, taps, and waits for the bot."""

    world: World
    person_id: int
    patience: float
    rng: random.Random
    unanswered: list[int] = field(default_factory=list)

    def _bot_messages(self) -> list[ChatMessage]:
        return [message for message in self.world.chats[self.person_id] if message.sender == "bot"]

    async def send(self, text: str) -> bool:
        """Type a message; ``True`` once a new bot message arrived."""
        before = len(self._bot_messages())
        update_id = await self.world.person_sends(self.person_id, text)
        if await self._until(lambda: len(self._bot_messages()) > before):
            return True
        self.unanswered.append(update_id)
        return False

    async def tap(self, matches: Matcher) -> bool:
        """Tap a button (a random one among those that match) on the newest bot message that has
        one; ``True`` once the tap was answered."""
        found: list[tuple[ChatMessage, str]] = []

        def visible() -> bool:
            for message in reversed(self._bot_messages()):
                found[:] = [
                    (message, button["callback_data"])
                    for button in message.buttons
                    if "callback_data" in button and matches(button["callback_data"])
                ]
                if found:
                    return True
            return False

        if not await self._until(visible, min(self.patience, 3.0)):
            return False
        message, data = self.rng.choice(found)
        update_id, query_id = await self.world.person_taps(self.person_id, message.message_id, data)
        if await self._until(lambda: self.world.callback_queries[query_id].answered):
            return True
        self.unanswered.append(update_id)
        return False

    async def _until(self, condition: Callable[[], bool], patience: float | None = None) -> bool:
        deadline = time.monotonic() + (self.patience if patience is None else patience)
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True


async def browse(phone: Phone) -> bool:
    return await phone.send("/offers") and await phone.tap(action(offers.PAGE))


async def book(phone: Phone) -> bool:
    if not await phone.send("/book"):
        return False
    await phone.tap(action(flow.AGREE, "yes"))  # the consent screen, shown the first time only
    return (
        await phone.tap(action(flow.CHOOSE_TOPIC))
        and await phone.tap(action(flow.CHOOSE_LANGUAGE))
        and await phone.tap(action(flow.CHOOSE_DAY))
        and await phone.tap(action(flow.CHOOSE_TIME))
        and await phone.tap(action(flow.CONFIRM))
    )


async def move(phone: Phone) -> bool:
    return (
        await phone.send("/appointments")
        and await phone.tap(action(mine.DETAIL))
        and await phone.tap(action(mine.MOVE))
        and await phone.tap(action(mine.MOVE_DAY))
        and await phone.tap(action(mine.MOVE_OK))
    )


async def cancel(phone: Phone) -> bool:
    return (
        await phone.send("/appointments")
        and await phone.tap(action(mine.DETAIL))
        and await phone.tap(action(mine.CANCEL))
        and await phone.tap(action(mine.CANCEL_FOR))
    )


async def a_persons_visit(phone: Phone, number: int) -> None:
    """Everyone starts and looks at the offers; every fifth person books, and of those every
    second moves the appointment and every third cancels it."""
    await asyncio.sleep(number * 0.02)  # people arrive over a few seconds, not all at once
    await phone.send("/start")
    await browse(phone)
    if number % 5 == 0 and await book(phone):
        if number % 10 == 0:
            await move(phone)
        if number % 15 == 0:
            await cancel(phone)
