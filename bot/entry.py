"""The ``wegweiser`` command's entry point: loads the command with the cycle collector held off
(``bot.collector``), then runs it."""

from __future__ import annotations

from collections.abc import Sequence

from bot import collector


def main(argv: Sequence[str] | None = None) -> int:
    with collector.held_off():
        from bot.cli import main as command
    return command(argv)
