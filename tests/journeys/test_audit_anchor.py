"""The audit log's head leaves the database every day: each admin gets it as a short message in
their language, and it is added to the anchor file when one is configured."""

from __future__ import annotations

from storage import audit
from storage.db import session_scope
from storage.models import Role
from tests.support.harness import BotUnderTest

JONAS, ANNA = 8500, 8501


async def test_admins_get_the_audit_anchor_and_the_anchor_file_grows(bot: BotUnderTest, tmp_path) -> None:
    anchor_file = tmp_path / "audit-anchors.txt"
    bot.settings = bot.settings.model_copy(update={"audit_anchor_file": anchor_file})
    await bot.restart()
    await bot.make_staff(JONAS, Role.ADMIN, "Jonas Keller")
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    jonas = bot.person(JONAS, "Jonas", "uk")
    anna = bot.person(ANNA, "Anna", "de")
    await jonas.send("/start")
    await anna.send("/start")
    async with session_scope(bot.sessions) as session:
        await audit.record(
            session, actor_id=None, actor_role="system", action="case.read", case_number=None, now=bot.clock()
        )
        anchor = await audit.current_anchor(session)
    seen_by_anna = len(anna.chat)

    await bot.run_job("audit-anchor")

    message = jonas.last.text or ""
    assert str(anchor) in message
    assert "Будь ласка" in message  # in Jonas's language
    assert jonas.last.reply_markup is None
    assert len(anna.chat) == seen_by_anna  # advisors do not get it
    assert anchor_file.read_text().split()[-1] == str(anchor)
    async with bot.sessions() as session:
        assert (await audit.verify_chain(session, audit.parse_anchor(str(anchor_file)))).intact
