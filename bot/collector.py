"""Python's cycle collector in the long-running bot process.

What start-up builds (modules, classes, compiled statements, translations, the desk's code, the
search index) lives as long as the process: about 140,000 objects. Left in the collector, every
full collection walks all of them, ~100 ms with the event loop stopped, every few seconds under
load, and every reply and reminder under way waits. Once start-up is over they are frozen out of
the collector (``gc.freeze``); later collections walk only what was made since.

The youngest generation is also collected less often: after 7,000 new objects instead of Python's
700. Each Bot API call makes a few hundred short-lived objects; with 50 calls in flight, a
collection every 700 found most of them still in use and moved them on to the older generations,
to be walked again and again. Most are now gone by the time a collection comes. The reminder
dispatcher's collector time fell from ~50 to ~3 ms per 1,000 reminders (``bench_production``
prints it), and no pause is longer than 5 ms.

Only ``wegweiser run`` does this: a process that builds many applications one after another (the
tests) would keep each one's leftovers for good.

Before all that, while the ``wegweiser`` command loads its modules (``bot.entry``), the collector
is held off: those objects pile up by the thousand, and each collection walked them all again,
~150 of the ~900 ms start-up on a slow machine. Loading makes no garbage worth collecting. Every
command but ``run`` turns it on again once loaded (``bot.cli``); ``run`` goes on loading (the bot's
own modules, the checks, the application) until its start-up is over, and only then collects, once,
in ``freeze_what_lives``, after the first getUpdates: turned on in between, the collector's first
pass walked everything loaded so far (~30 ms).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# New objects (less those freed) between two collections of the youngest generation; the two
# older generations keep Python's ratios of 10.
YOUNGEST_THRESHOLD = 7_000


def freeze_what_lives() -> None:
    """Collect what start-up left behind, move everything still alive out of the collector's
    reach, collect the young less often, and turn the collector on (``run`` held it off until
    now). Safe to call again later (after the search index is built): each call freezes what has
    been made since the last one, and its collection walks only that."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_THRESHOLD, older, oldest)
    gc.enable()


def hold_off() -> None:
    """No collections from now on until ``turn_on`` or ``freeze_what_lives`` (``bot.entry``)."""
    gc.disable()


def turn_on() -> None:
    """Collections again, as Python makes them."""
    gc.enable()


@contextlib.contextmanager
def held_off() -> Iterator[None]:
    """No collections inside (unless the collector was off already, it is on again afterwards)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
