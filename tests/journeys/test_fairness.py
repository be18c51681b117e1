"""Fairness between people: one person's burst never makes everyone else wait."""

from __future__ import annotations

import asyncio

from tests.support.harness import BotUnderTest

BURST = 50


async def test_one_persons_burst_does_not_delay_another_persons_answer(bot: BotUnderTest) -> None:
    busy = bot.person(6001, "Amira", "ar")
    other = bot.person(6002, "Olena", "uk")
    await busy.send("/start")
    await other.send("/start")
    assert bot.application is not None
    # Stop fetching for a moment, so the burst and the other update arrive in one batch, the
    # burst first: as when a person's phone reconnects with fifty queued taps.
    assert bot.application.updater is not None
    await bot.application.updater.stop()
    burst = [await bot.world.person_sends(busy.id, "/help") for _ in range(BURST)]
    single = await bot.world.person_sends(other.id, "/help")
    await bot.application.updater.start_polling(poll_interval=0, timeout=5)

    await bot.processed(single)

    done = sum(bot.application.done_event(update_id).is_set() for update_id in burst)
    assert done < BURST // 2, f"the other person waited for {done} of the burst's {BURST} updates"
    await asyncio.gather(*(bot.processed(update_id) for update_id in burst))
    assert len(busy.bot_messages) == BURST + 1
