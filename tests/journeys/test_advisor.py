"""The advisor's side of consultations, as advisors and the people they advise use it: the notice
of a booking, /agenda, cancelling with a reason (the person is told in their own language), "did
they come?" after the appointment, /hours, and the morning digest. Everyone else is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers import advisor, advisor_cancel, advisor_hours, staff
from handlers import booking as flow
from handlers.appointment_texts import when_text
from handlers.domain_errors import domain_error_text
from handlers.reminders import JOB_ID as REMINDER_JOB
from locales import ENDONYMS, Html, Translator
from storage import advisors, booking, consent, people
from storage.db import session_scope
from storage.models import Absence, Appointment, AppointmentSlot, Case, Reminder, Role
from tests.support.harness import BotUnderTest, SimulatedPerson

BERLIN = ZoneInfo("Europe/Berlin")
ANNA = 8100  # the advisor, German phone
BEN = 8200  # another advisor, English phone
AMIRA = 8101  # Arabic phone
OLENA = 8102  # Ukrainian phone


def t(language: str) -> Translator:
    return Translator(language, BERLIN)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def person_id(bot: BotUnderTest, telegram_id: int) -> int:
    async with bot.sessions() as session:
        person = await people.person_by_telegram_id(session, telegram_id)
        assert person is not None
        return person.id


async def stored(bot: BotUnderTest, appointment_id: int) -> tuple[Appointment, Case]:
    async with bot.sessions() as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        case = await session.get(Case, appointment.case_id)
        assert case is not None
        return appointment, case


async def count(bot: BotUnderTest, model: type, *where: object) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def consultations(bot: BotUnderTest) -> BotUnderTest:
    """Anna (advisor, German) with hours on Tuesdays and Thursdays; Ben, another advisor (English)."""
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    await bot.make_staff(BEN, Role.ADVISOR, "Ben Krause")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ANNA)
        assert anna is not None
        for weekday in (1, 3):
            await advisors.set_weekly_hours(session, anna.id, weekday, "09:00-12:00")
        (await advisors.profile(session, anna.id)).languages = ["de", "ar"]
    await bot.person(ANNA, "Anna", "de").send("/start")
    await bot.person(BEN, "Ben", "en").send("/start")
    return bot


async def book_with_anna(
    bot: BotUnderTest, telegram_id: int, first_name: str, language: str, starts_at: datetime
) -> int:
    """Set-up shortcut: the person (who already wrote to the bot) agrees and books with Anna."""
    async with session_scope(bot.sessions) as session:
        person = await people.person_by_telegram_id(session, telegram_id)
        anna = await people.person_by_telegram_id(session, ANNA)
        assert person is not None and anna is not None
        person.language = language
        await consent.give_consent(session, person.id, consent.Purpose.BOOKING, language, bot.clock.current)
        appointment = await booking.book(
            session,
            bot.settings.booking_policy(),
            bot.clock.current,
            person=person,
            advisor_id=anna.id,
            starts_at=starts_at,
            topic="housing",
            language=language,
            interpreter=False,
            first_name=first_name,
        )
        return appointment.id


async def newcomer(bot: BotUnderTest, telegram_id: int, first_name: str, language: str) -> SimulatedPerson:
    person = bot.person(telegram_id, first_name, language)
    await person.send("/start")
    return person


async def test_the_advisor_is_told_of_a_booking_and_finds_it_in_the_agenda(
    consultations: BotUnderTest,
) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    amira = consultations.person(AMIRA, "Amira", "ar")
    german = t("de")

    (consent_screen,) = await amira.send("/book")
    await amira.tap("bagree:yes:-", consent_screen)
    await amira.tap("btopic:housing:-")
    await amira.tap(ENDONYMS["ar"])
    await amira.tap(amira.last.buttons[0]["callback_data"])  # Tuesday
    await amira.tap(amira.last.buttons[0]["callback_data"])  # 09:00, the first free time
    await amira.tap(t("ar").pgettext("booking", "✅ Book this appointment"))

    async with consultations.sessions() as session:
        (appointment,) = (await session.scalars(select(Appointment))).all()
    appointment, case = await stored(consultations, appointment.id)
    notice = anna.last
    assert "09:00" in notice.text and "Amira" in notice.text and case.number in notice.text
    assert "Rathaus" not in notice.text and "Telegram" not in notice.text, "only what Anna needs"

    (agenda,) = await anna.send("/agenda")

    assert agenda.html is not None
    assert advisor.agenda_entry(german, appointment, case) in agenda.html
    assert german.pgettext("advisor", "<b>Today, {date}</b>", date=german.date(date(2026, 3, 2))) not in (
        agenda.html
    ), "nothing today"
    assert f"<b>{german.date(date(2026, 3, 3))}</b>" in agenda.html
    assert [button["callback_data"] for button in agenda.buttons] == [advisor.CANCEL.encode(appointment.id)]


async def test_an_advisor_cancels_for_illness_and_the_person_is_told_in_arabic(
    consultations: BotUnderTest,
) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    amira = await newcomer(consultations, AMIRA, "Amira", "ar")
    appointment_id = await book_with_anna(consultations, AMIRA, "Amira", "ar", local(3, 9))
    german, arabic = t("de"), t("ar")

    (agenda,) = await anna.send("/agenda")
    await anna.tap(advisor.CANCEL.encode(appointment_id), agenda)
    assert "Amira" in anna.last.text
    await anna.tap(german.pgettext("advisor", "🤒 I am ill"))

    told = amira.last
    assert told.html == arabic.pgettext(
        "advisor",
        "❗ <b>Your appointment has been cancelled</b>\n{when}\n\n"
        "Your advisor is ill, so the consultation cannot take place. We are sorry! "
        "Please book a new time.",
        when=Html(when_text(arabic, local(3, 9), local(3, 10))),
    )
    assert told.buttons == [
        {"text": arabic.pgettext("menu", "📅 Book a consultation"), "callback_data": flow.START.encode("-")}
    ]
    appointment, case = await stored(consultations, appointment_id)
    assert (appointment.status, appointment.cancelled_by, appointment.cancel_reason) == (
        "cancelled",
        "advisor",
        "advisor_ill",
    )
    assert await count(consultations, AppointmentSlot) == 2, "an ill advisor's hour stays blocked for others"
    assert await count(consultations, Reminder, Reminder.status != "dropped") == 0, "no reminders any more"
    assert anna.last.text.startswith(
        german.pgettext(
            "advisor", "✅ Cancelled. {name} ({case}) has been told.", name="Amira", case=case.number
        )
    )

    await amira.tap(flow.START.encode("-"), told)
    assert arabic.pgettext("booking", "<b>Book a consultation</b>\n\nWhat would you like to talk about?") == (
        amira.last.html
    ), "straight to a new booking: the consent is still valid"


async def test_another_advisor_or_a_refugee_cannot_cancel_or_record_and_nothing_changes(
    consultations: BotUnderTest,
) -> None:
    amira = await newcomer(consultations, AMIRA, "Amira", "ar")
    olena = await newcomer(consultations, OLENA, "Olena", "uk")
    ben = consultations.person(BEN, "Ben", "en")
    appointment_id = await book_with_anna(consultations, AMIRA, "Amira", "ar", local(3, 9))
    amira_messages = len(amira.bot_messages)
    not_yours = t("en").pgettext("advisor", "This is not one of your appointments. Nothing was changed.")

    (agenda,) = await ben.send("/agenda")
    for forged in (
        advisor.CANCEL.encode(appointment_id),
        advisor_cancel.CANCEL_FOR.encode(appointment_id, "emergency"),
    ):
        await ben.tap_data(agenda, forged, forged=True)
        assert ben.last_query.answer_text == not_yours
    consultations.clock.advance(timedelta(days=1, hours=2))  # the appointment is over
    await ben.tap_data(agenda, advisor.OUTCOME.encode(appointment_id, "no"), forged=True)
    assert ben.last_query.answer_text == not_yours

    (menu,) = await olena.send("/start")
    for forged in (
        advisor_cancel.CANCEL_FOR.encode(appointment_id, "other"),
        advisor.OUTCOME.encode(appointment_id, "no"),
    ):
        await olena.tap_data(menu, forged, forged=True)
        assert olena.last_query.answer_text == staff.refusal(t("uk"))

    appointment, _ = await stored(consultations, appointment_id)
    assert (appointment.status, appointment.cancelled_by) == ("booked", None)
    assert await count(consultations, AppointmentSlot) == 2
    assert len(amira.bot_messages) == amira_messages, "Amira was told nothing"


async def test_after_the_appointment_a_no_show_is_recorded_and_the_person_is_invited_to_rebook(
    consultations: BotUnderTest,
) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    amira = await newcomer(consultations, AMIRA, "Amira", "ar")
    olena = await newcomer(consultations, OLENA, "Olena", "uk")
    missed = await book_with_anna(consultations, AMIRA, "Amira", "ar", local(3, 9))
    came = await book_with_anna(consultations, OLENA, "Olena", "uk", local(3, 10))
    german, arabic = t("de"), t("ar")
    _, amira_case = await stored(consultations, missed)

    consultations.clock.current = local(3, 11, 5)  # both appointments are over
    await consultations.run_job(REMINDER_JOB)

    prompts = [message for message in anna.bot_messages if message.buttons][-2:]
    assert prompts[0].html == german.pgettext(
        "advisor",
        "❓ <b>Did {name} ({case}) come?</b>\n{when}\n{kind}\n\nPlease record how it went.",
        name="Amira",
        case=amira_case.number,
        when=Html(when_text(german, local(3, 9), local(3, 10))),
        kind=Html(german.pgettext("booking", "First consultation ({minutes} minutes)", minutes=60)),
    )
    assert [button["callback_data"] for button in prompts[0].buttons] == [
        advisor.OUTCOME.encode(missed, "yes"),
        advisor.OUTCOME.encode(missed, "no"),
    ]
    olena_messages = len(olena.bot_messages)

    await anna.tap(german.pgettext("advisor", "🚫 Did not come"), prompts[0])
    await anna.tap(german.pgettext("advisor", "✅ Attended"), prompts[1])

    assert (await stored(consultations, missed))[0].status == "no_show"
    assert (await stored(consultations, came))[0].status == "attended"
    assert amira.last.html == arabic.pgettext(
        "advisor",
        "Your consultation on {when} did not take place. If you would still like advice, you are welcome "
        "to book a new time.",
        when=Html(when_text(arabic, local(3, 9), local(3, 10))),
    )
    assert amira.last.buttons[0]["callback_data"] == flow.START.encode("-")
    assert len(olena.bot_messages) == olena_messages, "who came gets no message"

    amira_messages = len(amira.bot_messages)
    await anna.tap_data(prompts[0], advisor.OUTCOME.encode(missed, "no"), forged=True)
    assert len(amira.bot_messages) == amira_messages, "a second tap sends nothing twice"


async def test_an_advisor_sets_tuesday_hours_and_a_wrong_value_is_explained(
    consultations: BotUnderTest,
) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    german = t("de")
    tuesday = advisor_hours.weekday_name(german, 1)

    (overview,) = await anna.send("/hours")
    assert (
        german.pgettext(
            "advisor", "{weekday}: {hours}", weekday=tuesday, hours=german.time_range("09:00", "12:00")
        )
        in overview.text
    )
    await anna.tap(advisor_hours.HOURS_DAYS.encode(), overview)
    await anna.tap(tuesday)
    assert tuesday in anna.last.text

    (refused,) = await anna.send("9 bis 12")
    assert refused.text == german.pgettext(
        "advisor",
        "Not saved. {reason}\nPlease try again, or /cancel.",
        reason=Html(domain_error_text(german, "hours_format")),
    )
    (refused,) = await anna.send("09:15-12:00")
    assert domain_error_text(german, "hours_grid") in refused.text
    (saved,) = await anna.send("08:30-12:00, 13:00-15:30")

    assert saved.text.startswith(german.pgettext("advisor", "✅ Saved."))
    assert (
        german.pgettext(
            "advisor",
            "{weekday}: {hours}",
            weekday=tuesday,
            hours=f"{german.time_range('08:30', '12:00')}, {german.time_range('13:00', '15:30')}",
        )
        in saved.text
    )
    async with consultations.sessions() as session:
        weekly = await advisors.weekly_hours(session, await person_id(consultations, ANNA))
    assert weekly == {1: [("08:30", "12:00"), ("13:00", "15:30")], 3: [("09:00", "12:00")]}

    await anna.tap(advisor_hours.HOURS_DAYS.encode(), saved)
    await anna.tap(advisor_hours.HOURS_DAY.encode(3))
    await anna.send("-")
    async with consultations.sessions() as session:
        weekly = await advisors.weekly_hours(session, await person_id(consultations, ANNA))
    assert weekly == {1: [("08:30", "12:00"), ("13:00", "15:30")]}, "a single - clears Thursday"


async def test_an_absence_over_a_booking_lists_it_and_asks_before_cancelling(
    consultations: BotUnderTest,
) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    amira = await newcomer(consultations, AMIRA, "Amira", "ar")
    appointment_id = await book_with_anna(consultations, AMIRA, "Amira", "ar", local(5, 9))
    german = t("de")

    (overview,) = await anna.send("/hours")
    assert german.pgettext("advisor", "No absences planned.") in overview.text
    await anna.tap(advisor_hours.ABSENCE_ADD.encode(), overview)
    (refused,) = await anna.send("nächste Woche")
    assert domain_error_text(german, "absence_format") in refused.text
    (refused,) = await anna.send("2026-02-02 2026-02-06")
    assert domain_error_text(german, "absence_past") in refused.text
    (question,) = await anna.send("2026-03-04 2026-03-06")

    assert question.text.startswith(
        german.npgettext(
            "advisor",
            "You have {n} booked appointment in this absence:",
            "You have {n} booked appointments in this absence:",
            1,
        )
    )
    assert "Amira" in question.text and german.time(local(5, 9)) in question.text
    assert await count(consultations, Absence) == 0, "nothing is saved before the advisor answers"
    assert (await stored(consultations, appointment_id))[0].status == "booked"

    await anna.tap(german.pgettext("advisor", "✖ Add the absence and cancel"), question)

    assert (await stored(consultations, appointment_id))[0].status == "cancelled"
    assert await count(consultations, AppointmentSlot) == 2, "the advisor's time stays blocked"
    assert (
        german.npgettext(
            "advisor",
            "{n} appointment was cancelled and the person was told.",
            "{n} appointments were cancelled and the people were told.",
            1,
        )
        in anna.last.text
    )
    assert german.date_range(date(2026, 3, 4), date(2026, 3, 6)) in anna.last.text
    told = amira.last
    assert told.text.startswith("❗") and "Telegram" not in told.text
    assert told.buttons[0]["callback_data"] == flow.START.encode("-"), "a button to book again"
    async with consultations.sessions() as session:
        (absence,) = (await session.scalars(select(Absence))).all()
    assert (absence.first_day, absence.last_day) == (date(2026, 3, 4), date(2026, 3, 6))

    await anna.tap(advisor_hours.ABSENCE_LIST.encode(), anna.last)
    await anna.tap(advisor_hours.ABSENCE_REMOVE.encode(absence.id))

    assert await count(consultations, Absence) == 0
    assert anna.last.text.startswith(german.pgettext("advisor", "✅ The absence was removed."))


async def test_an_absence_can_keep_the_bookings_in_it(consultations: BotUnderTest) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    await newcomer(consultations, AMIRA, "Amira", "ar")
    appointment_id = await book_with_anna(consultations, AMIRA, "Amira", "ar", local(5, 9))
    german = t("de")
    (overview,) = await anna.send("/hours")
    await anna.tap(advisor_hours.ABSENCE_ADD.encode(), overview)
    (question,) = await anna.send("2026-03-05")

    await anna.tap(german.pgettext("advisor", "Add the absence, keep the appointments"), question)

    assert (await stored(consultations, appointment_id))[0].status == "booked"
    assert await count(consultations, Absence) == 1
    assert (
        german.npgettext(
            "advisor",
            "You have {n} booked appointment in this time. It is not cancelled automatically: "
            "cancel it in /agenda if needed.",
            "You have {n} booked appointments in this time. They are not cancelled automatically: "
            "cancel them in /agenda if needed.",
            1,
        )
        in anna.last.text
    )


async def test_an_advisor_sets_languages_and_place_in_english(consultations: BotUnderTest) -> None:
    ben = consultations.person(BEN, "Ben", "en")
    english = t("en")

    (overview,) = await ben.send("/hours")
    await ben.tap(advisor_hours.LANGUAGES.encode(), overview)
    (refused,) = await ben.send("de, xx")
    assert domain_error_text(english, "languages") in refused.text
    await ben.send("DE, en ar")
    await ben.tap(advisor_hours.PLACE.encode())
    (saved,) = await ben.send("Rathaus Hemmingen, Zimmer 3 & 4")

    assert "Rathaus Hemmingen, Zimmer 3 &amp; 4" in (saved.html or "")
    assert "German, English, Arabic" in saved.text, "staff read language names in their own language"
    async with consultations.sessions() as session:
        profile = await advisors.profile(session, await person_id(consultations, BEN))
    assert (profile.languages, profile.place) == (["de", "en", "ar"], "Rathaus Hemmingen, Zimmer 3 & 4")


@pytest.mark.parametrize("language", ["ar", "uk"])
async def test_refugees_and_admins_are_refused_the_advisor_tools(
    consultations: BotUnderTest, language: str
) -> None:
    await consultations.make_staff(8300, Role.ADMIN, "Jonas")
    refugee = consultations.person(8103, "Someone", language)
    admin = consultations.person(8300, "Jonas", "de")

    for person, expected in ((refugee, staff.refusal(t(language))), (admin, staff.refusal(t("de")))):
        for command in ("/agenda", "/hours"):
            (reply,) = await person.send(command)
            assert reply.text == expected
        await person.tap_data(reply, advisor_hours.HOURS_DAY.encode(1), forged=True)
        assert person.last_query.answer_text == expected
    async with consultations.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Absence)) == 0


async def test_the_morning_digest_lists_todays_appointments_to_their_advisor_only(
    consultations: BotUnderTest,
) -> None:
    anna = consultations.person(ANNA, "Anna", "de")
    ben = consultations.person(BEN, "Ben", "en")
    await newcomer(consultations, AMIRA, "Amira", "ar")
    await newcomer(consultations, OLENA, "Olena", "uk")
    first = await book_with_anna(consultations, AMIRA, "Amira", "ar", local(3, 9))
    second = await book_with_anna(consultations, OLENA, "Olena", "uk", local(3, 11))
    await book_with_anna(consultations, AMIRA, "Amira", "ar", local(5, 9))
    ben_messages = len(ben.bot_messages)
    german = t("de")
    (job,) = consultations.application.job_queue.get_jobs_by_name(advisor.DIGEST_JOB)
    assert job.job.id == advisor.DIGEST_JOB

    consultations.clock.current = local(3, 7, 30)
    await job.run(consultations.application)

    digest = anna.last
    assert digest.html is not None
    assert digest.html.startswith(
        german.npgettext(
            "advisor",
            "☀ <b>Good morning!</b> You have {n} appointment today, {date}:",
            "☀ <b>Good morning!</b> You have {n} appointments today, {date}:",
            2,
            date=german.date(date(2026, 3, 3)),
        )
    )
    for appointment_id in (first, second):
        assert advisor.agenda_entry(german, *await stored(consultations, appointment_id)) in digest.html
    assert german.date(date(2026, 3, 5)) not in digest.text, "only today"
    assert len(ben.bot_messages) == ben_messages, "Ben has no appointments today"
