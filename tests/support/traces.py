"""Find every place in the database that still holds a person's internal id, Telegram id or name.

Scans every table the database has (not only those the models know) and every column, so a new
table that keeps a person's data fails the deletion tests until deleting everything covers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import SessionFactory


def _person_columns(inspector: Any, table: str) -> set[str]:
    """Columns that can point at a person: foreign keys to people, the person's own id, and id
    columns without a foreign key (such as the audit log's actor)."""
    primary_key = set(inspector.get_pk_constraint(table)["constrained_columns"])
    foreign_keys = {
        column: key["referred_table"]
        for key in inspector.get_foreign_keys(table)
        for column in key["constrained_columns"]
    }
    columns = set()
    for column in (column["name"] for column in inspector.get_columns(table)):
        if column in foreign_keys:
            if foreign_keys[column] == "people":
                columns.add(column)
        elif column in primary_key:
            if table == "people":
                columns.add(column)
        elif column.endswith("_id"):
            columns.add(column)
    return columns


def _scan(
    connection: Connection, person_id: int, telegram_id: int, name: str, every_integer: bool
) -> list[str]:
    inspector = inspect(connection)
    hits = set()
    for table in inspector.get_table_names():
        person_columns = _person_columns(inspector, table)
        for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
            for column, value in row.items():
                if isinstance(value, bool) or value is None:
                    continue
                if isinstance(value, int):
                    may_be_person = every_integer or column in person_columns
                    found = value == telegram_id or (may_be_person and value == person_id)
                elif isinstance(value, str):
                    found = name.casefold() in value.casefold() or str(telegram_id) in value
                    # Small internal ids occur in any text; only large ones are looked for in texts.
                    found = found or (every_integer and str(person_id) in value)
                else:
                    found = False
                if found:
                    hits.add(f"{table}.{column}")
    return sorted(hits)


async def traces_of(
    sessions: SessionFactory, *, person_id: int, telegram_id: int, name: str, every_integer: bool = False
) -> list[str]:
    """``table.column`` for every value that still holds the person's internal id, Telegram id or
    name. With ``every_integer`` every integer column counts (use ids no other row can have)."""
    async with sessions() as session:
        connection = await session.connection()
        return await connection.run_sync(_scan, person_id, telegram_id, name, every_integer)
