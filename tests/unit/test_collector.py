"""The ``wegweiser`` command loads its modules with the cycle collector held off, and turns it on
again before the command runs (``bot.entry``, ``bot.collector``); ``run`` keeps it off until its
start-up is over (``tests/unit/test_start_up.py``)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from bot import collector
from tests.support.bot_process import PROJECT_ROOT

# Runs `wegweiser keys new` (it prints a new key and touches nothing else), counting the
# collections while the collector is held off, or, with "plain", while the same modules load without
# the entry point.
COUNT_COLLECTIONS = """
import gc, json, sys
from bot import collector

holding, during, loaded = [False], [], []
hold_off, turn_on = collector.hold_off, collector.turn_on

def watched_hold_off():
    hold_off()
    holding[0] = True

def watched_turn_on():
    holding[0] = False
    loaded.append("bot.cli" in sys.modules)
    turn_on()

collector.hold_off, collector.turn_on = watched_hold_off, watched_turn_on
gc.callbacks.append(lambda phase, _: during.append(1) if phase == "start" and holding[0] else None)
if sys.argv[1] == "plain":
    holding[0] = True
    from bot.cli import main
    holding[0] = False
else:
    from bot.entry import main
status = main(["keys", "new"])
print(json.dumps({"collections": len(during), "loaded": loaded, "enabled": gc.isenabled(), "status": status}))
"""


def collections_while_loading(how: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", COUNT_COLLECTIONS, how],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_the_command_loads_without_collections_and_runs_with_the_collector_on() -> None:
    entry = collections_while_loading("entry")
    assert entry == {"collections": 0, "loaded": [True], "enabled": True, "status": 0}
    plain = collections_while_loading("plain")
    assert plain["collections"] > 10, "loading the same modules otherwise collects again and again"


def test_holding_the_collector_off_leaves_it_as_it_was() -> None:
    assert gc.isenabled()
    with collector.held_off():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.held_off():
            pass
        assert not gc.isenabled(), "off before, off after"
    finally:
        gc.enable()
