"""Throwaway databases: a SQLite file per test, and one PostgreSQL database per test session."""

from __future__ import annotations

import asyncio
import os
import secrets

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base

POSTGRES_ADMIN_DSN = os.environ.get("WEGWEISER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _postgres_admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_available() -> str | None:
    """``None`` when a PostgreSQL server answers, otherwise the reason it does not."""
    try:
        asyncio.run(_postgres_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"no PostgreSQL server answers at {POSTGRES_ADMIN_DSN}: {type(error).__name__}"
    return None


def create_postgres_database() -> tuple[str, str]:
    """A new empty database; returns its name and SQLAlchemy URL."""
    name = f"wegweiser_test_{secrets.token_hex(4)}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    host_part = POSTGRES_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    return name, f"postgresql+asyncpg://{host_part}/{name}"


def drop_postgres_database(name: str) -> None:
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Remove every row (PostgreSQL databases are shared by the tests of one session)."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
