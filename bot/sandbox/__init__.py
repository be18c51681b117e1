"""A local stand-in for the Telegram Bot API, for the demo, the tests and the benchmarks.

It listens only on loopback, needs no token from Telegram, and refuses what Telegram refuses.
"""

from bot.sandbox.rules import BotApiError
from bot.sandbox.server import RunningSandbox, Sandbox, new_world, serve
from bot.sandbox.world import ChatMessage, Person, World

__all__ = [
    "BotApiError",
    "ChatMessage",
    "Person",
    "RunningSandbox",
    "Sandbox",
    "World",
    "new_world",
    "serve",
]
