"""``wegweiser staff invite`` prints the desk's kind of single-use link (it needs no admin yet: this is
how the first admin gets in), and ``staff list`` says who has not started the bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage import invites, people
from storage.db import create_engine, create_session_factory, session_scope
from storage.models import Person
from tests.support.cli import operator_environment, sandbox_in_a_thread


@pytest.fixture(autouse=True)
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    operator_environment(monkeypatch, tmp_path)
    return tmp_path


def redeem(workdir: Path, token: str, telegram_id: int) -> tuple[Person | None, Person | None]:
    """Whoever opens the link first, then a second person with the same link."""

    async def go() -> tuple[Person | None, Person | None]:
        engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'data' / 'wegweiser.sqlite3'}")
        try:
            async with session_scope(create_session_factory(engine)) as session:
                now = datetime.now(UTC)
                first = await people.ensure_person(session, telegram_id, now)
                second = await people.ensure_person(session, telegram_id + 1, now)
                return (
                    await invites.redeem_invite(session, token, first.id, now),
                    await invites.redeem_invite(session, token, second.id, now),
                )
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_the_operator_invites_the_first_admin_with_a_single_use_link(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with sandbox_in_a_thread() as (running, world):
        monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", world.token)
        monkeypatch.setenv("WEGWEISER_TELEGRAM_API_URL", running.api_url)

        assert main(["staff", "invite", "--role", "admin", "--name", "Jonas Keller"]) == 0

    link = capsys.readouterr().out.strip()
    prefix = "https://t.me/"
    assert link.startswith(prefix) and "?start=invite_" in link
    token = link.split("?start=invite_", 1)[1]
    first, second = redeem(workdir, token, 7201)
    assert first is not None and (first.role, first.staff_name) == ("admin", "Jonas Keller")
    assert second is None, "the link works once"


def test_inviting_needs_the_token_for_the_link(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "invite", "--role", "advisor", "--name", "Anna"]) == 2
    assert "WEGWEISER_TELEGRAM_TOKEN" in capsys.readouterr().err


def test_staff_list_says_who_has_not_started_the_bot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "424242", "--role", "advisor", "--name", "Anna Berger"]) == 0
    capsys.readouterr()

    assert main(["staff", "list"]) == 0

    assert "424242\tadvisor\tAnna Berger\thas not started the bot yet" in capsys.readouterr().out
