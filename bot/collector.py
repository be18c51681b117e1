"""Python's cycle collector in the long-running bot process.

What start-up builds (modules, classes, compiled statements, translations, the desk's code, the
search index) lives as long as the process. Left in the collector, every full collection walks all
of it: ~110 ms with the event loop stopped, several times a minute under load, so every reply and
reminder under way then waits. Once start-up is over it is frozen out of the collector
(``gc.freeze``); later collections walk only what was made since.

Only ``wegweiser run`` freezes: a process that builds many applications one after another (the
tests) would keep each one's leftovers for good.
"""

from __future__ import annotations

import gc


def freeze_what_lives() -> None:
    """Collect what start-up left behind, then move everything still alive out of the collector's
    reach. Safe to call again later (after the search index is built): each call freezes what has
    been made since the last one, and its collection walks only that."""
    gc.collect()
    gc.freeze()
