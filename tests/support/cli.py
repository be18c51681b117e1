"""Helpers for tests of the ``wegweiser`` command."""

from __future__ import annotations


def without_database_line(err: str) -> str:
    """stderr without the line every database command starts with (``wegweiser: database …``)."""
    return "".join(
        line for line in err.splitlines(keepends=True) if not line.startswith("wegweiser: database ")
    )
