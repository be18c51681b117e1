"""Backups and restores: PostgreSQL through ``pg_dump``/``pg_restore`` (custom format), SQLite through
its online backup API (a consistent copy while the bot keeps running). A restore goes into an empty
database only, so it can never mix two datasets. Case texts stay encrypted in a backup: without the
case key they cannot be read."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why in one line."""


@dataclass(frozen=True)
class Libpq:
    """How to reach a PostgreSQL database with the client tools: arguments and environment
    (the password travels in ``PGPASSWORD``, never on the command line)."""

    arguments: list[str]
    environment: dict[str, str]


def libpq(url: str) -> Libpq:
    parsed = make_url(url)
    arguments = ["--dbname", parsed.database or ""]
    if parsed.host:
        arguments += ["--host", parsed.host]
    if parsed.port:
        arguments += ["--port", str(parsed.port)]
    if parsed.username:
        arguments += ["--username", parsed.username]
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    return Libpq(arguments, environment)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{Path(command[0]).name} failed: {last}")


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database to ``target`` (which must not exist yet)."""
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source_path = _sqlite_path(parsed)
        if not source_path.exists():
            raise BackupError(f"there is no database at {source_path}")
        source = sqlite3.connect(source_path)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    connection = libpq(url)
    try:
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(target),
                *connection.arguments,
            ],
            connection.environment,
        )
    except BackupError:
        target.unlink(missing_ok=True)
        raise


def backup_kind(path: Path) -> str:
    """``"sqlite"`` or ``"postgresql"``, from the file's first bytes."""
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Wegweiser backup (neither SQLite nor pg_dump custom format)")


def restore(url: str, source: Path, database_is_empty: bool) -> None:
    """Restore a backup into the configured database, which must hold no tables yet."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    kind = backup_kind(source)
    parsed = make_url(url)
    engine = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
    if kind != engine:
        raise BackupError(f"{source} is a {kind} backup but the configured database is {engine}")
    if not database_is_empty:
        raise BackupError("the configured database is not empty; restore into a new, empty database")
    if engine == "sqlite":
        target_path = _sqlite_path(parsed)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            backup_file.backup(target)
        finally:
            target.close()
            backup_file.close()
        return
    connection = libpq(url)
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            *connection.arguments,
            str(source),
        ],
        connection.environment,
    )


async def database_is_empty(engine: AsyncEngine) -> bool:
    """Whether the database holds no tables at all (not even Alembic's version table)."""
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return not names
