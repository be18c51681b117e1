"""What the tests expect of the command menus: the commands everyone has, in their order (staff
find theirs before these)."""

from __future__ import annotations

EVERYONES_COMMANDS = [
    "start",
    "menu",
    "offers",
    "week",
    "search",
    "book",
    "appointments",
    "news",
    "privacy",
    "language",
    "help",
]
