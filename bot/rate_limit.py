"""The rate limiter Wegweiser sends through: PTB's ``AIORateLimiter``, and a way for a sender to be
told the moment its request leaves the queue for Telegram (the reminder dispatcher stamps each
reminder as "going out" then, not while it still waits its turn)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

Announce = Callable[[], Awaitable[None]]


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
