"""Staff added before they opened the bot are not "blocked": Telegram only will not let the bot
write first. Their notifications wait in the database and arrive the moment they start the bot."""

from __future__ import annotations

from sqlalchemy import select

from storage import advisors, outbox, people
from storage.db import session_scope
from storage.models import Case, Role, WaitingNotification
from tests.journeys.test_booking import ADVISOR, book_through_the_bot, t
from tests.support.harness import BotUnderTest


async def advisor_who_never_opened_the_bot(bot: BotUnderTest) -> None:
    await bot.make_staff(ADVISOR, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        assert anna is not None
        for weekday in (1, 3):
            await advisors.set_weekly_hours(session, anna.id, weekday, "09:00-12:00, 14:00-16:00")
        profile = await advisors.profile(session, anna.id)
        profile.languages, profile.place = ["de", "ar"], "Rathaus Hemmingen, Zimmer 12"


async def test_a_booking_notice_waits_for_an_advisor_and_arrives_when_she_starts_the_bot(
    bot: BotUnderTest,
) -> None:
    await advisor_who_never_opened_the_bot(bot)
    amira = bot.person(8101, "Amira", "ar")
    anna = bot.person(ADVISOR, "Anna", "de")

    await book_through_the_bot(amira, "ar")
    await amira.tap(t("ar").pgettext("booking", "✅ Book this appointment"))

    assert anna.chat == [], "Telegram does not let the bot write first"
    # The bot tried once and Telegram refused, as it does for someone who never opened the bot.
    assert bot.world.refusals == [("sendMessage", "Forbidden: bot can't initiate conversation with a user")]
    bot.world.refusals.clear()
    async with bot.sessions() as session:
        stored = await people.person_by_telegram_id(session, ADVISOR)
        assert stored is not None
        assert stored.blocked_at is None, "not having started the bot is no block"
        assert stored.not_started_at is not None
        (waiting,) = await outbox.undelivered(session)
        case = (await session.scalars(select(Case))).one()
    assert (waiting.staff_name, waiting.count) == ("Anna Berger", 1)

    replies = await anna.send("/start")

    notice = next(message for message in replies if case.number in message.text)
    assert "Amira" in notice.text
    async with bot.sessions() as session:
        assert (await session.scalars(select(WaitingNotification))).all() == []
        stored = await people.person_by_telegram_id(session, ADVISOR)
        assert stored is not None and stored.not_started_at is None

    olena = bot.person(8102, "Olena", "uk")
    await book_through_the_bot(olena, "uk", at=(10, 0))
    await olena.tap(t("uk").pgettext("booking", "✅ Book this appointment"))
    assert "Olena" in anna.last.text, "once started, notices are sent at once"
