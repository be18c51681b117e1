"""/desk links are limited per staff member, and the answer says so in the staff member's language;
the daily job purges what can no longer open anything."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from locales import Translator
from storage.models import DeskSignIn, Role
from tests.support.harness import BotUnderTest

ANNA = 8600


async def test_the_sixth_desk_link_in_ten_minutes_is_refused_in_the_persons_language(
    bot: BotUnderTest,
) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    anna = bot.person(ANNA, "Anna", "uk")
    for _ in range(5):
        (link,) = await anna.send("/desk")
        assert "/signin/" in (link.text or "")
    bot.clock.advance(timedelta(minutes=3))

    (refused,) = await anna.send("/desk")

    t = Translator("uk", bot.settings.zone)
    assert refused.text == t.npgettext(
        "staff",
        "You asked for many sign-in links just now. Please send /desk again in {n} minute.",
        "You asked for many sign-in links just now. Please send /desk again in {n} minutes.",
        7,
    )
    bot.clock.advance(timedelta(minutes=8))
    (again,) = await anna.send("/desk")
    assert "/signin/" in (again.text or "")


async def test_the_daily_purge_deletes_expired_sign_in_links(bot: BotUnderTest) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    await bot.person(ANNA, "Anna", "de").send("/desk")
    bot.clock.advance(timedelta(days=1))

    await bot.run_job("desk-access-purge")

    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeskSignIn)) == 0
