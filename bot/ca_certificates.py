"""aiohttp, imported with its TLS contexts' CA certificates loaded on a thread beside start-up.

aiohttp builds two TLS contexts when it is imported, and each loads the system's CA bundle: about
55 ms on a small machine, 14 % of the instructions until ``wegweiser run`` first polls.
OpenSSL parses the certificates without holding Python's interpreter lock, so here the loading is
recorded while aiohttp is imported (the only time ``ssl.SSLContext.set_default_verify_paths`` is
replaced, in a process that has no other thread yet) and then done on a thread, beside the rest of
start-up. ``certificates_loaded`` waits for it: the Bot API transport (``bot.request``) awaits it
before it opens its session, so no TLS connection is made before the contexts hold their
certificates. A command that ends sooner waits for the thread as it exits.
"""

from __future__ import annotations

import asyncio
import atexit
import ssl
import threading
from types import ModuleType

_loaded = threading.Event()
_failures: list[BaseException] = []


def _import_aiohttp() -> ModuleType:
    recorded: list[ssl.SSLContext] = []
    load = ssl.SSLContext.set_default_verify_paths
    own = vars(ssl.SSLContext).get("set_default_verify_paths")

    def record(context: ssl.SSLContext) -> None:
        recorded.append(context)

    ssl.SSLContext.set_default_verify_paths = record  # type: ignore[method-assign]
    try:
        import aiohttp
    finally:
        if own is None:
            del ssl.SSLContext.set_default_verify_paths
        else:
            ssl.SSLContext.set_default_verify_paths = own  # type: ignore[method-assign]

    def load_recorded() -> None:
        try:
            for context in recorded:
                load(context)
        except BaseException as error:  # raised again by certificates_loaded, in the bot's task
            _failures.append(error)
        finally:
            _loaded.set()

    threading.Thread(target=load_recorded, name="wegweiser:ca-certificates", daemon=True).start()
    atexit.register(_loaded.wait, 10)
    return aiohttp


aiohttp = _import_aiohttp()


async def certificates_loaded() -> None:
    """Return once aiohttp's TLS contexts hold the system's CA certificates."""
    if not _loaded.is_set():
        await asyncio.to_thread(_loaded.wait)
    if _failures:
        raise _failures[0]
