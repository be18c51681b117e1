"""aiohttp is imported with its TLS contexts' CA certificates loaded on a thread beside start-up
(``bot.ca_certificates``): once the transport may connect, the contexts hold exactly what Python's
own default context holds, and ``ssl`` is left as it was."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.bot_process import PROJECT_ROOT

# A fresh process, so that aiohttp is first imported through the transport, as in `wegweiser run`.
CONTEXTS_AFTER_LOADING = """
import asyncio, json, ssl
from bot import request
import aiohttp.connector

restored = "set_default_verify_paths" not in vars(ssl.SSLContext)
asyncio.run(request.certificates_loaded())
print(json.dumps({
    "restored": restored,
    "verified": aiohttp.connector._SSL_CONTEXT_VERIFIED.cert_store_stats(),
    "unverified": aiohttp.connector._SSL_CONTEXT_UNVERIFIED.cert_store_stats(),
    "python": ssl.create_default_context().cert_store_stats(),
}))
"""


def test_aiohttps_contexts_hold_the_systems_certificates_once_the_transport_may_connect() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CONTEXTS_AFTER_LOADING],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["restored"], "ssl.SSLContext is as it was once aiohttp is imported"
    assert seen["python"]["x509_ca"] > 0, "this machine has CA certificates to compare with"
    assert seen["verified"] == seen["python"]
    assert seen["unverified"] == seen["python"], "aiohttp loads them into both of its contexts"
