"""A booking step that cannot go on always says why before the person chooses again: the day's last
free time was just taken, the summary waited past the minimum notice, the limit of open
appointments (one screen, everywhere). And what a booking leaves behind says when: the calendar
file's caption and the advisor's notice of a move (old and new time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers import booking as flow
from handlers.appointment_texts import when_text
from handlers.appointments import DETAIL, MOVE, MOVE_DAY
from storage import advisors, people
from storage.db import session_scope
from storage.models import Appointment, Role
from tests.journeys.test_booking import ADVISOR, book_through_the_bot, consultations, local, t
from tests.support.harness import BotUnderTest, SimulatedPerson

__all__ = ["consultations"]  # the fixture, shared with the booking journeys


@pytest.fixture
async def one_time_on_tuesday(bot: BotUnderTest) -> BotUnderTest:
    """An advisor with a single first-consultation time on Tuesdays and a morning on Thursdays."""
    await bot.make_staff(ADVISOR, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        await advisors.set_weekly_hours(session, anna.id, 1, "09:00-10:00")
        await advisors.set_weekly_hours(session, anna.id, 3, "09:00-12:00")
        (await advisors.profile(session, anna.id)).languages = ["de"]
    await bot.person(ADVISOR, "Anna", "de").send("/start")
    return bot


async def to_the_summary(person: SimulatedPerson) -> None:
    """Book the first free time up to the summary (Tuesday 3 March, 09:00)."""
    await book_through_the_bot(person, "de")


def limit_text(n: int = 2) -> str:
    return flow.refusal_text(t("de"), "limit", n)


async def test_when_the_day_s_last_time_was_just_taken_the_person_is_told_before_the_days(
    one_time_on_tuesday: BotUnderTest,
) -> None:
    german = t("de")
    jana, ali = one_time_on_tuesday.person(9301, "Jana", "de"), one_time_on_tuesday.person(9302, "Ali", "de")
    await to_the_summary(jana)
    summary = jana.last
    await to_the_summary(ali)
    await ali.tap(german.pgettext("booking", "✅ Book this appointment"))

    await jana.tap(german.pgettext("booking", "✅ Book this appointment"), summary)

    assert summary.html.startswith(flow.refusal_text(german, "taken", 2))
    assert german.pgettext("booking", "Which day suits you? These days have free times:") in summary.html
    days = [
        b["callback_data"].split(":")[3] for b in summary.buttons if b["callback_data"].startswith("bday")
    ]
    assert days and "20260303" not in days, "the day picker appears again, after the reason"


async def test_a_time_tapped_after_the_day_filled_up_says_so_too(one_time_on_tuesday: BotUnderTest) -> None:
    german = t("de")
    jana, ali = one_time_on_tuesday.person(9303, "Jana", "de"), one_time_on_tuesday.person(9304, "Ali", "de")
    (first,) = await jana.send("/book")
    await jana.tap("bagree:yes:-", first)
    await jana.tap("btopic:housing:-")
    await jana.tap("Deutsch")
    await jana.tap(jana.last.buttons[0]["callback_data"])
    times = jana.last
    await to_the_summary(ali)
    await ali.tap(german.pgettext("booking", "✅ Book this appointment"))

    await jana.tap(german.time(local(3, 9)), times)

    assert times.html.startswith(flow.refusal_text(german, "taken", 2))
    assert all(b["callback_data"].startswith(("bday", "menu")) for b in times.buttons)


async def test_a_summary_that_waited_past_the_minimum_notice_says_why(consultations: BotUnderTest) -> None:
    german = t("de")
    jana = consultations.person(9305, "Jana", "de")
    await to_the_summary(jana)
    summary = jana.last
    consultations.clock.advance(timedelta(hours=13))  # Tuesday 09:00 is now less than 12 hours ahead

    await jana.tap(german.pgettext("booking", "✅ Book this appointment"), summary)

    assert summary.html.startswith(flow.refusal_text(german, "too_soon", 2))
    async with consultations.sessions() as session:
        assert (await session.scalars(select(Appointment))).all() == []


async def test_the_limit_screen_is_the_same_everywhere_with_a_way_to_my_appointments(
    consultations: BotUnderTest,
) -> None:
    german = t("de")
    jana = consultations.person(9306, "Jana", "de")
    await book_through_the_bot(jana, "de", day_label=flow.day_label(german, local(10, 9).date()))
    waiting_summary = jana.last
    for day in (3, 5):
        await book_through_the_bot(jana, "de", day_label=flow.day_label(german, local(day, 9).date()))
        await jana.tap(german.pgettext("booking", "✅ Book this appointment"))

    (from_the_command,) = await jana.send("/book")
    await jana.tap(german.pgettext("booking", "✅ Book this appointment"), waiting_summary)

    for screen in (from_the_command, waiting_summary):
        assert screen.text == limit_text()
        assert [b["callback_data"] for b in screen.buttons] == ["menu:appointments"]


async def test_the_calendar_file_names_the_appointment_s_date_and_time(consultations: BotUnderTest) -> None:
    german = t("de")
    jana = consultations.person(9307, "Jana", "de")
    await book_through_the_bot(jana, "de")

    await jana.tap(german.pgettext("booking", "✅ Book this appointment"))

    calendar_file = jana.bot_messages[-1]
    assert calendar_file.document["file_name"] == "wegweiser-appointment.ics"
    assert calendar_file.text == german.pgettext(
        "booking",
        "📎 Add your appointment on {when} to your phone's calendar.",
        when=when_text(german, local(3, 9), local(3, 10)),
    )


async def test_the_advisor_s_notice_of_a_move_names_the_old_and_the_new_time(
    consultations: BotUnderTest,
) -> None:
    german = t("de")
    jana = consultations.person(9308, "Jana", "de")
    await book_through_the_bot(jana, "de")
    await jana.tap(german.pgettext("booking", "✅ Book this appointment"))
    async with consultations.sessions() as session:
        appointment_id = await session.scalar(select(Appointment.id))

    (listing,) = await jana.send("/appointments")
    await jana.tap(DETAIL.encode(appointment_id), listing)
    await jana.tap(MOVE.encode(appointment_id))
    await jana.tap(MOVE_DAY.encode(appointment_id, "20260305"))
    await jana.tap(german.time(local(5, 14)))

    notice = consultations.world.chats[ADVISOR][-1]
    before, after = (
        when_text(german, local(3, 9), local(3, 10)),
        when_text(german, local(5, 14), local(5, 15)),
    )
    assert notice.html.index(before) < notice.html.index(after)
