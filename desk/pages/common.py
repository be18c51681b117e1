"""What every desk page shares: the mount point, today's date, redirects after a form, reading
dates and small numbers from a query, and the ``{name:id}`` path parameter.

A database id in a path matches only 1 to 2³¹−1 written with ASCII digits: anything else (huge
numbers, negative ones, "²", letters) matches no route and so is a plain 404, never a database error.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse

from desk.auth import services_of

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL


def numbers_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1 … ``limit`` without leading zeros."""
    digits = str(limit)
    width = len(digits)
    parts = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            parts.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{width - position - 1}}}")
    parts.append(digits)
    return "|".join(parts)


class DatabaseId(Convertor[int]):
    """``{name:id}``: a row id as the database can hold it."""

    regex = f"(?:{numbers_up_to(MAX_ID)})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", DatabaseId())


def root(request: Request) -> str:
    """Where the desk is mounted ("/desk"), for links."""
    return request.scope.get("root_path", "").rstrip("/")


def local_today(request: Request) -> date:
    """Today in the municipality's time zone."""
    services = services_of(request)
    return services.clock().astimezone(services.zone).date()


def redirect(request: Request, path: str, **query: object) -> RedirectResponse:
    """Back to a desk page after a form (303, so the browser asks with GET)."""
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"{root(request)}{path}{suffix}", status_code=303)


def day_param(value: str | None) -> date | None:
    """A date from a query parameter; ``None`` when empty, unreadable or out of range."""
    try:
        day = date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None
    return day if day is not None and EARLIEST <= day <= LATEST else None


def count_param(value: str) -> int:
    """A small non-negative number from a query parameter (0 for anything else)."""
    return int(value) if value.isdigit() and value.isascii() and len(value) <= 6 else 0


def form_id(value: str | None) -> int | None:
    """A row id from a form field; ``None`` unless it is 1 … 2³¹−1 in ASCII digits."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
