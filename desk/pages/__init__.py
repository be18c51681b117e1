"""The desk's pages, one module each; ``routes()`` lists them all."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
