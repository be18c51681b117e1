"""The ``wegweiser`` command's entry point: loads the command with the cycle collector held off
(``bot.collector``; the command turns it on again), then runs it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bot import collector

# httpx, which python-telegram-bot imports, loads the libraries of its own command-line client
# (click, pygments, rich) whenever they are installed, and uvicorn brings click; Wegweiser never runs
# that client. Marked absent, the module makes httpx fall back to the stub it has for when they are
# missing: 10–20 ms less start-up (benchmarks/README.md, "Start-up").
HTTPX_COMMAND_LINE = "httpx._main"


def main(argv: Sequence[str] | None = None) -> int:
    collector.hold_off()  # on again once the command is loaded, or for `run` once start-up is over
    sys.modules.setdefault(HTTPX_COMMAND_LINE, None)  # type: ignore[arg-type]
    from bot.cli import main as command

    return command(argv)
