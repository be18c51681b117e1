"""The callback-data codec: every inline button's data is ``action:field:field``, parsed strictly.

A button's data is a request, never proof: it comes back from the client and may be stale or
forged, so decoding checks the action, the number of fields and each field's shape, and the
operation behind it re-checks permissions in ``storage/``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

MAX_BYTES = 64
SEPARATOR = ":"


@dataclass(frozen=True)
class Action:
    """One kind of button: a short name and the allowed shape of each field."""

    name: str
    fields: tuple[str, ...] = ()
    _shapes: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]{1,8}", self.name):
            raise ValueError(f"action names are 1-8 lowercase letters: {self.name!r}")
        # Compiled once: every button of every message is checked against them.
        object.__setattr__(self, "_shapes", tuple(re.compile(shape) for shape in self.fields))

    def encode(self, *values: str | int) -> str:
        parts = [self.name, *(str(value) for value in values)]
        data = SEPARATOR.join(parts)
        if self.decode(data) is None:
            raise ValueError(f"values do not fit action {self.name!r}: {values!r}")
        return data

    def decode(self, data: object) -> tuple[str, ...] | None:
        """The fields, or ``None`` when the data is not a well-formed button of this action."""
        if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_BYTES:
            return None
        name, *values = data.split(SEPARATOR)
        if name != self.name or len(values) != len(self.fields):
            return None
        for value, shape in zip(values, self._shapes, strict=True):
            if not shape.fullmatch(value):
                return None
        return tuple(values)

    def parse(self, data: object) -> tuple[str | int, ...] | None:
        """The fields typed (whole-number fields as ``int``), or ``None`` when the data is malformed."""
        values = self.decode(data)
        if values is None:
            return None
        return tuple(
            int(value) if isinstance(shape, Number) else value
            for value, shape in zip(values, self.fields, strict=True)
        )

    def matches(self, data: object) -> bool:
        """For ``CallbackQueryHandler(pattern=...)``."""
        return self.decode(data) is not None


def one_of(values: Collection[str]) -> str:
    """A field shape that accepts exactly the given values."""
    return "|".join(re.escape(value) for value in sorted(values))


class Number(str):
    """A field shape whose values are whole numbers: :meth:`Action.parse` gives them as ``int``."""

    __slots__ = ()


def integer(max_digits: int = 9) -> str:
    """A field shape for a non-negative integer without leading zeros."""
    return Number(rf"0|[1-9][0-9]{{0,{max_digits - 1}}}")
