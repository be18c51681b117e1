"""``wegweiser demo`` next to a production configuration leaves production untouched: it always
uses a database and a case key of its own."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import chosen_env_file, load_settings
from bot.demo import run_demo
from storage.crypto import new_key
from storage.db import create_engine, create_session_factory
from storage.models import Offer, Person, Role
from tests.support.cli import free_port, operator_environment


async def test_the_demo_beside_a_production_env_file_never_touches_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("WEGWEISER_DATA_DIR")
    production = tmp_path / "production.sqlite3"
    (tmp_path / ".env").write_text(
        "\n".join(
            [
                f"WEGWEISER_DATABASE_URL=sqlite:///{production}",
                "WEGWEISER_TELEGRAM_TOKEN=123456789:production-token",
                f"WEGWEISER_CASE_DATA_KEY={new_key()}",
                f"WEGWEISER_DATA_DIR={tmp_path / 'data'}",
            ]
        ),
        encoding="utf-8",
    )
    settings = load_settings(chosen_env_file())
    assert settings.database_url is not None, "the production settings were read"
    ready = asyncio.Event()

    demo = asyncio.create_task(run_demo(settings, free_port(), ready))
    try:
        await asyncio.wait_for(ready.wait(), 30)
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo

    assert not production.exists(), "the production database was not even opened"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'demo.sqlite3'}")
    try:
        async with create_session_factory(engine)() as session:
            admins = (
                await session.scalars(select(Person.telegram_id).where(Person.role == Role.ADMIN))
            ).all()
            offers = (await session.scalars(select(Offer.id))).all()
    finally:
        await engine.dispose()
    assert admins == [2002] and len(offers) > 10, "the demo's staff and offers went to its own database"
    assert (tmp_path / "data" / "demo-case-data.key").exists(), "and it used a key of its own"
