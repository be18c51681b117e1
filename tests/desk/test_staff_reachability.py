"""Admins see on the staff page who cannot be reached in Telegram yet and what waits for them."""

from __future__ import annotations

from html import unescape

from storage import outbox, people
from storage.db import session_scope
from storage.models import Role
from tests.desk.conftest import DeskClient
from tests.support.harness import BotUnderTest


async def test_the_staff_page_shows_who_has_not_started_the_bot_and_what_waits(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(7101, "Jonas Keller", Role.ADMIN)
    await bot.make_staff(7102, Role.ADVISOR, "Nina Neu")
    await bot.make_staff(7103, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        nina = await people.person_by_telegram_id(session, 7102)
        assert nina is not None
        for text in ("Neue Buchung", "Abgesagt"):
            await outbox.hold(session, nina.id, text, None, bot.clock.current)
        await people.mark_blocked(session, 7103, bot.clock.current)

    page = unescape((await client.get(f"{base}/staff")).text)

    nina_row = page[page.index("Nina Neu") :].split("</tr>", 1)[0]
    anna_row = page[page.index("Anna Berger") :].split("</tr>", 1)[0]
    jonas_row = page[page.index("Jonas Keller") :].split("</tr>", 1)[0]
    assert "hat den Bot noch nicht gestartet" in nina_row
    assert "2 Benachrichtigungen warten seit" in nina_row
    assert "hat den Bot blockiert" in anna_row
    assert "erreichbar" in jonas_row and "warten" not in jonas_row
    assert "Neue Buchung" not in page, "the desk shows that something waits, not what"
