"""The rate limiter Wegweiser sends through: PTB's ``AIORateLimiter``, and a way for a sender to be
told the moment its request leaves the queue for Telegram (the reminder dispatcher stamps each
reminder as "going out" then, not while it still waits its turn)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

Announce = Callable[[], Awaitable[None]]

# A bucket of a message and a quarter, drained at 29.7 messages/s: one message every 1/29.7 s on
# average, never two closer than 1/40 s, and at most 30 in any second (1.25 + 29.7 < 31). With a
# bucket of exactly one, every message's wake-up lateness (the event loop's timers fire up to a
# millisecond late, more under load) was lost for good: 29.2 messages/s on a quiet machine, 27.5
# on a loaded one. The extra quarter lets a message woken up to 8 ms late leave its successor's
# turn where it was.
MESSAGES_PER_SECOND = 29.7
BUCKET = 1.25


class AnnouncingRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` whose ``rate_limit_args`` may also be an async callable: it is awaited
    each time the request is let through, right before it is sent (again after a 429)."""

    announces = True

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | Announce | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if not callable(rate_limit_args):
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        announce = rate_limit_args

        async def announced(*call_args: Any, **call_kwargs: Any) -> bool | JSONDict | list[JSONDict]:
            await announce()
            return await callback(*call_args, **call_kwargs)

        return await super().process_request(announced, args, kwargs, endpoint, data, None)


def smooth_rate_limiter() -> AnnouncingRateLimiter:
    """The production limiter: just under 30 messages/s overall, spread evenly rather than PTB's default
    bucket of 30, which starts full and so lets ~60 messages through in the first second of a burst;
    up to 5 retries after a 429."""
    return AnnouncingRateLimiter(
        overall_max_rate=BUCKET, overall_time_period=BUCKET / MESSAGES_PER_SECOND, max_retries=5
    )
