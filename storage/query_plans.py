"""Hints for SQLite's query planner, which plans our databases without statistics.

Nothing runs ``ANALYZE``, so SQLite guesses: an equality on the first column of any index looks as
selective as any other. Given ``id IN (…) AND status = ?`` (or a join on the id), it may walk every
row of that status from a (status, …) index and test each against the ids, instead of finding each id
by its key: a cost that grows with the rows of that status (all pending reminders, all deliveries of
a news item) rather than with the ids asked for. A unary ``+`` before the column is SQLite's
documented way to keep a term off an index; the term still filters the rows found. PostgreSQL plans by
its statistics and gets the column as it is.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

T = TypeVar("T")


class NotByIndex(FunctionElement[T]):
    """A column that SQLite must not look rows up by (see the module's docstring)."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[T]) -> None:
        super().__init__(column)
        self.type = column.type


def not_by_index(column: ColumnElement[T]) -> NotByIndex[T]:
    """``column`` for a filter that must not choose SQLite's index: ``+column`` there, the column
    itself elsewhere."""
    return NotByIndex(column)


@compiles(NotByIndex)
def _as_it_is(element: NotByIndex[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(NotByIndex, "sqlite")
def _with_unary_plus(element: NotByIndex[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)
