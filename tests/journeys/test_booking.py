"""Booking a consultation as people do it, in Arabic, Ukrainian and German: consent, topic,
language, day, time, confirm; then moving, cancelling, the waiting list and the reminders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers import appointments as mine
from handlers import booking as flow
from locales import ENDONYMS, Translator
from storage import advisors, people
from storage.db import session_scope
from storage.models import (
    Appointment,
    AppointmentSlot,
    Case,
    Consent,
    Person,
    Reminder,
    Role,
    WaitingListEntry,
)
from tests.support.harness import BotUnderTest, SimulatedPerson
from tests.support.scripts import written_in

BERLIN = ZoneInfo("Europe/Berlin")
ADVISOR = 8000


def t(language: str) -> Translator:
    return Translator(language, BERLIN)


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def count(bot: BotUnderTest, model: type, *where: object) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def consultations(bot: BotUnderTest) -> BotUnderTest:
    """An advisor with hours on Tuesdays and Thursdays, who speaks German and Arabic."""
    await bot.make_staff(ADVISOR, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        for weekday in (1, 3):
            await advisors.set_weekly_hours(session, anna.id, weekday, "09:00-12:00, 14:00-16:00")
        profile = await advisors.profile(session, anna.id)
        profile.languages, profile.place = ["de", "ar"], "Rathaus Hemmingen, Zimmer 12"
    advisor = bot.person(ADVISOR, "Anna", "de")
    await advisor.send("/start")
    return bot


async def book_through_the_bot(
    person: SimulatedPerson,
    language: str,
    day_label: str | None = None,
    at: tuple[int, int] = (9, 0),
    topic: str = "housing",
) -> None:
    """The whole booking journey as the person taps it; stops at the summary. ``at`` is the local
    time tapped, labelled as the person's language writes it ("09:00", "9:00 ص")."""
    (first,) = await person.send("/book")
    if first.buttons and first.buttons[0]["callback_data"].startswith("bagree"):
        await person.tap("bagree:yes:-", first)
    await person.tap(f"btopic:{topic}:-")
    await person.tap(ENDONYMS[language])
    day_button = (
        person.last.buttons[0]
        if day_label is None
        else next(b for b in person.last.buttons if b["text"] == day_label)
    )
    await person.tap(day_button["callback_data"])
    await person.tap(t(language).time(local(3, *at)))


async def test_an_arabic_speaker_books_in_arabic_and_gets_a_calendar_file(
    consultations: BotUnderTest,
) -> None:
    amira = consultations.person(8001, "Amira", "ar")
    arabic = t("ar")

    (consent_screen,) = await amira.send("/book")
    assert written_in(consent_screen.text, "ar")
    assert await count(consultations, Consent) == 0, "nothing stored before agreeing"
    await amira.tap("bagree:yes:-", consent_screen)
    await amira.tap("btopic:housing:-")
    assert [b["text"] for b in amira.last.buttons][:4] == [
        "العربية",
        "Deutsch",
        "English",
        arabic.pgettext("booking", "🗣 I need an interpreter"),
    ]
    await amira.tap("العربية")
    assert amira.last.buttons[0]["text"] == arabic.day(local(3, 9).date())
    await amira.tap(amira.last.buttons[0]["callback_data"])
    await amira.tap(arabic.time(local(3, 9)))
    assert arabic.pgettext("booking", "👤 with {advisor}", advisor="Anna") in amira.last.text
    assert arabic.pgettext("booking", "First consultation ({minutes} minutes)", minutes=60) in amira.last.text

    await amira.tap(arabic.pgettext("booking", "✅ Book this appointment"))

    confirmation, calendar_file = amira.bot_messages[-2:]
    assert (
        arabic.pgettext("booking", "✅ <b>Your appointment is booked.</b>")
        .replace("<b>", "")
        .replace("</b>", "")
        in confirmation.text
    )
    assert calendar_file.document["file_name"] == "wegweiser-appointment.ics"
    ics = consultations.world.files[calendar_file.document["file_id"]].content.decode()
    assert "DTSTART:20260303T080000Z" in ics and "DTEND:20260303T090000Z" in ics
    assert "Zimmer 12" in ics and "Amira" not in ics
    async with consultations.sessions() as session:
        (appointment,) = (await session.scalars(select(Appointment))).all()
        case = await session.get(Case, appointment.case_id)
        given, reminders_given = (await session.scalars(select(Consent).order_by(Consent.id))).all()
    assert (appointment.starts_at, appointment.kind, appointment.topic, appointment.language) == (
        local(3, 9),
        "first",
        "housing",
        "ar",
    )
    assert (given.purpose, given.language, given.given_how, given.given_at) == (
        "booking",
        "ar",
        "chat",
        consultations.clock.current,
    )
    assert reminders_given.purpose == "reminders", (
        "the consent text covers reminders; withdrawable on its own"
    )
    assert case.number in confirmation.text and case.first_name == "Amira"
    assert await count(consultations, AppointmentSlot) == 2
    assert await count(consultations, Reminder) == 3
    notice = consultations.world.chats[ADVISOR][-1]
    assert "Amira" in notice.text and case.number in notice.text
    assert "Rathaus" not in notice.text, "advisors get only what they need to act"


async def test_a_double_tap_on_confirm_books_once(consultations: BotUnderTest) -> None:
    olena = consultations.person(8002, "Olena", "uk")
    await book_through_the_bot(olena, "uk")
    summary = olena.last
    confirm = next(b["callback_data"] for b in summary.buttons if b["callback_data"].startswith("bok:"))

    await olena.tap_data(summary, confirm)
    await olena.tap_data(summary, confirm, forged=True)

    assert olena.last_query.answer_text == t("uk").pgettext(
        "booking", "You have already booked this appointment."
    )
    assert await count(consultations, Appointment) == 1
    assert len([m for m in consultations.world.chats[ADVISOR] if "W-" in m.text]) == 1, "one notice"


async def test_two_people_confirming_the_same_time_get_one_booking(consultations: BotUnderTest) -> None:
    amira, olena = consultations.person(8003, "Amira", "ar"), consultations.person(8004, "Olena", "uk")
    await book_through_the_bot(amira, "ar")
    await book_through_the_bot(olena, "uk")
    confirms = [
        (p, p.last, next(b["callback_data"] for b in p.last.buttons if b["callback_data"].startswith("bok")))
        for p in (amira, olena)
    ]

    await asyncio.gather(*(person.tap_data(message, data) for person, message, data in confirms))

    assert await count(consultations, Appointment) == 1
    loser = olena if amira.last.document else amira
    taken = t("uk" if loser is olena else "ar").pgettext(
        "booking", "Sorry, this time was just taken by someone else. Please choose another one."
    )
    assert loser.last.text.startswith(taken)
    language = "uk" if loser is olena else "ar"
    assert t(language).time(local(3, 9)) not in [b["text"] for b in loser.last.buttons], (
        "fresh times, not the taken"
    )


async def test_moving_and_cancelling_from_my_appointments(consultations: BotUnderTest) -> None:
    jana = consultations.person(8005, "Jana", "de")
    german = t("de")
    await book_through_the_bot(jana, "de")
    await jana.tap(german.pgettext("booking", "✅ Book this appointment"))
    async with consultations.sessions() as session:
        appointment_id = await session.scalar(select(Appointment.id))

    (listing,) = await jana.send("/appointments")
    await jana.tap(mine.DETAIL.encode(appointment_id), listing)
    await jana.tap(mine.MOVE.encode(appointment_id))
    await jana.tap(mine.MOVE_DAY.encode(appointment_id, "20260305"))
    await jana.tap(german.time(local(5, 14)))

    async with consultations.sessions() as session:
        moved = await session.get(Appointment, appointment_id)
        units = sorted((await session.scalars(select(AppointmentSlot.starts_at))).all())
        due = {r.kind: r.due_at for r in await session.scalars(select(Reminder))}
    assert (moved.starts_at, moved.ends_at) == (local(5, 14), local(5, 15))
    assert units == [local(5, 14), local(5, 14, 30)]
    assert due["before_24h"] == local(4, 14)
    assert (
        german.pgettext("advisor", "↔ <b>Moved to a new time</b>").replace("<b>", "").replace("</b>", "")
        in consultations.world.chats[ADVISOR][-1].text
    )

    (listing,) = await jana.send("/appointments")
    await jana.tap(mine.DETAIL.encode(appointment_id), listing)
    await jana.tap(mine.CANCEL.encode(appointment_id))
    await jana.tap(mine.CANCEL_FOR.encode(appointment_id, "ill"))

    async with consultations.sessions() as session:
        cancelled = await session.get(Appointment, appointment_id)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        "person",
        "ill",
    )
    assert await count(consultations, AppointmentSlot) == 0
    assert await count(consultations, Reminder, Reminder.status == "pending") == 0


async def test_someone_else_s_appointment_and_late_changes_are_refused(consultations: BotUnderTest) -> None:
    amira, olena = consultations.person(8006, "Amira", "ar"), consultations.person(8007, "Olena", "uk")
    await book_through_the_bot(amira, "ar")
    await amira.tap(t("ar").pgettext("booking", "✅ Book this appointment"))
    async with consultations.sessions() as session:
        appointment_id = await session.scalar(select(Appointment.id))
    (menu,) = await olena.send("/start")

    for forged in (
        mine.CANCEL_FOR.encode(appointment_id, "none"),
        mine.DETAIL.encode(appointment_id),
        mine.MOVE_OK.encode(appointment_id, flow.minute_of(local(5, 9)), 1),
    ):
        await olena.tap_data(menu, forged, forged=True)
        assert olena.last_query.answer_text == t("uk").pgettext("booking", "This appointment is not yours.")

    consultations.clock.current = local(3, 7, 30)
    (listing,) = await amira.send("/appointments")
    await amira.tap_data(listing, mine.CANCEL_FOR.encode(appointment_id, "ill"), forged=True)
    assert (
        amira.last_query.answer_text
        == t("ar").pgettext(
            "booking",
            "It is too late to change this appointment online. Please contact the integration "
            "management directly.",
        )[:200]
    )
    async with consultations.sessions() as session:
        assert (await session.get(Appointment, appointment_id)).status == "booked"


@pytest.mark.parametrize(
    "forged_time",
    [local(2, 14), local(3, 8), local(3, 9, 15), local(4, 10), local(30, 9)],
    ids=["too-soon", "before-hours", "off-grid", "no-hours-that-day", "beyond-window"],
)
async def test_forged_confirm_buttons_book_nothing(
    consultations: BotUnderTest, forged_time: datetime
) -> None:
    olena = consultations.person(8008, "Olena", "uk")
    await book_through_the_bot(olena, "uk")
    summary = olena.last
    async with consultations.sessions() as session:
        advisor_id = await session.scalar(select(Person.id).where(Person.telegram_id == ADVISOR))

    await olena.tap_data(
        summary, flow.CONFIRM.encode("work", "uk", flow.minute_of(forged_time), advisor_id, "-"), forged=True
    )

    assert await count(consultations, Appointment) == 0
    assert written_in(olena.last.text, "uk")


async def test_a_forged_confirm_naming_another_advisor_is_refused_clearly(
    consultations: BotUnderTest,
) -> None:
    """Amira books in Arabic, which Anna speaks; a button naming Ben (English only, free then) is forged."""
    await consultations.make_staff(8090, Role.ADVISOR, "Ben Krause")
    async with session_scope(consultations.sessions) as session:
        ben = await people.person_by_telegram_id(session, 8090)
        await advisors.set_weekly_hours(session, ben.id, 1, "09:00-12:00")
        (await advisors.profile(session, ben.id)).languages = ["en"]
    amira = consultations.person(8015, "Amira", "ar")
    await book_through_the_bot(amira, "ar")
    summary = amira.last

    await amira.tap_data(
        summary, flow.CONFIRM.encode("housing", "ar", flow.minute_of(local(3, 9)), ben.id, "-"), forged=True
    )

    assert await count(consultations, Appointment) == 0
    assert amira.last.text.startswith(
        t("ar").pgettext(
            "booking", "This time cannot be booked with this advisor. Please choose one of the times shown."
        )
    )
    assert t("ar").time(local(3, 9)) in [b["text"] for b in amira.last.buttons], "the real times again"
    assert not [m for m in consultations.world.chats.get(8090, []) if "W-" in m.text], "Ben hears nothing"


async def test_nobody_speaks_ukrainian_so_the_booking_says_an_interpreter_is_arranged(
    consultations: BotUnderTest,
) -> None:
    olena = consultations.person(8016, "Olena", "uk")
    ukrainian, german = t("uk"), t("de")
    promise = ukrainian.pgettext(
        "booking",
        "None of our advisors speaks {language}, so an interpreter is needed: we will arrange one "
        "for your appointment.",
        language=ukrainian.language_name("uk"),
    )

    await book_through_the_bot(olena, "uk")
    assert promise in olena.last.text, "told before booking"
    assert (
        ukrainian.pgettext(
            "booking", "with an interpreter for {language}", language=ukrainian.language_name("uk")
        )
        in olena.last.text
    )
    await olena.tap(ukrainian.pgettext("booking", "✅ Book this appointment"))

    assert promise in olena.bot_messages[-2].text, "and in the confirmation"
    async with consultations.sessions() as session:
        (appointment,) = (await session.scalars(select(Appointment))).all()
    assert (appointment.language, appointment.interpreter) == ("uk", True)
    needed = german.pgettext(
        "advisor", "⚠ interpreter needed for {language}", language=german.language_name("uk")
    )
    assert needed in consultations.world.chats[ADVISOR][-1].text, "the advisor's notice"
    anna = consultations.person(ADVISOR, "Anna", "de")
    (agenda,) = await anna.send("/agenda")
    assert needed in agenda.text


async def test_saying_no_to_the_data_consent_stores_nothing(consultations: BotUnderTest) -> None:
    ali = consultations.person(8009, "Ali", "fa")
    (screen,) = await ali.send("/book")
    await ali.tap("bagree:no:-", screen)
    assert await count(consultations, Consent) == 0 and await count(consultations, Case) == 0
    assert written_in(ali.last.text, "fa")


async def test_nobody_books_more_than_two_open_appointments(consultations: BotUnderTest) -> None:
    jana = consultations.person(8010, "Jana", "de")
    german = t("de")
    for day_label in (
        german.day(local(3, 9).date()),
        german.day(local(5, 9).date()),
    ):
        await book_through_the_bot(jana, "de", day_label=day_label)
        await jana.tap(german.pgettext("booking", "✅ Book this appointment"))

    (reply,) = await jana.send("/book")

    assert reply.text == german.npgettext(
        "booking",
        "You already have {n} open appointment. Please cancel it or wait until it has taken place "
        "before booking another.",
        "You already have {n} open appointments. Please cancel one or wait until one has taken place "
        "before booking another.",
        2,
    )
    assert await count(consultations, Appointment) == 2


async def test_reminders_arrive_once_in_the_person_language_and_never_late(
    consultations: BotUnderTest,
) -> None:
    amira = consultations.person(8011, "Amira", "ar")
    await book_through_the_bot(amira, "ar", at=(10, 0))
    await amira.tap(t("ar").pgettext("booking", "✅ Book this appointment"))
    before = len(amira.bot_messages)

    consultations.clock.current = local(2, 10)  # 24 hours before
    await consultations.run_job("reminder-dispatcher")
    await consultations.restart()
    await consultations.run_job("reminder-dispatcher")

    reminders_seen = amira.bot_messages[before:]
    assert len(reminders_seen) == 1, "exactly one reminder across a restart"
    assert t("ar").time_range(local(3, 10), local(3, 11)) in reminders_seen[0].text and written_in(
        reminders_seen[0].text, "ar"
    )
    assert [b["callback_data"].split(":")[0] for b in reminders_seen[0].buttons] == ["pcome", "pmove", "pcan"]

    consultations.clock.current = local(3, 10, 5)  # the 2-hour reminder is due, but the talk has begun
    await consultations.run_job("reminder-dispatcher")
    assert len(amira.bot_messages) == before + 1, "a reminder for an appointment that began is dropped"
    async with consultations.sessions() as session:
        statuses = {r.kind: r.status for r in await session.scalars(select(Reminder))}
    assert statuses["before_24h"] == "sent" and statuses["before_2h"] == "dropped"


async def test_a_person_who_blocked_the_bot_is_not_retried_and_the_advisor_is_told(
    consultations: BotUnderTest,
) -> None:
    olena = consultations.person(8012, "Olena", "uk")
    await book_through_the_bot(olena, "uk", at=(10, 0))
    await olena.tap(t("uk").pgettext("booking", "✅ Book this appointment"))
    consultations.world.people[8012].blocked = True  # blocked without the bot noticing

    consultations.clock.current = local(2, 10, 30)  # the 24-hour reminder is due
    await consultations.run_job("reminder-dispatcher")
    await consultations.run_job("reminder-dispatcher")

    async with consultations.sessions() as session:
        statuses = {r.kind: r.status for r in await session.scalars(select(Reminder))}
        person = await people.person_by_telegram_id(session, 8012)
    assert statuses["before_24h"] == "failed"
    assert person.blocked_at == consultations.clock.current
    warning = consultations.world.chats[ADVISOR][-1].text
    assert "Olena" in warning and "W-" in warning


async def test_the_waiting_list_tells_the_first_in_line_when_a_time_opens(
    consultations: BotUnderTest,
) -> None:
    async with session_scope(consultations.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        await advisors.set_weekly_hours(session, anna.id, 1, "09:00-10:00")
        await advisors.set_weekly_hours(session, anna.id, 3, "")
        await advisors.add_absence(
            session,
            anna.id,
            local(4, 12).date(),
            local(31, 12).date(),
            zone=BERLIN,
            now=consultations.clock.current,
        )
    holder, waiting = consultations.person(8013, "Jana", "de"), consultations.person(8014, "Amira", "ar")
    await book_through_the_bot(holder, "de")
    await holder.tap(t("de").pgettext("booking", "✅ Book this appointment"))
    await consultations.restart()

    (screen,) = await waiting.send("/book")
    await waiting.tap("bagree:yes:-", screen)
    await waiting.tap("btopic:work:-")
    await waiting.tap("العربية")
    await waiting.tap(t("ar").pgettext("booking", "📝 Join the waiting list"))
    assert await count(consultations, WaitingListEntry, WaitingListEntry.status == "waiting") == 1

    async with consultations.sessions() as session:
        appointment_id = await session.scalar(select(Appointment.id))
    (listing,) = await holder.send("/appointments")
    await holder.tap_data(listing, mine.CANCEL_FOR.encode(appointment_id, "solved"), forged=True)

    offer = waiting.last
    assert written_in(offer.text, "ar")
    await waiting.tap(offer.buttons[0]["callback_data"], offer)
    await waiting.tap(t("ar").pgettext("booking", "✅ Book this appointment"))
    assert await count(consultations, Appointment, Appointment.status == "booked") == 1
    assert await count(consultations, WaitingListEntry, WaitingListEntry.status == "done") == 1


async def test_local_time_is_right_on_the_day_summer_time_begins(consultations: BotUnderTest) -> None:
    consultations.clock.current = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # Friday before the change
    async with session_scope(consultations.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        await advisors.set_weekly_hours(session, anna.id, 0, "09:00-10:00")  # Mondays
    jana = consultations.person(8015, "Jana", "de")
    german = t("de")
    await book_through_the_bot(jana, "de", day_label=german.day(datetime(2026, 3, 30).date()))
    await jana.tap(german.pgettext("booking", "✅ Book this appointment"))
    async with consultations.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
    assert appointment.starts_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)

    consultations.clock.current = appointment.starts_at - timedelta(hours=24)  # Sunday 09:00 CEST
    await consultations.run_job("reminder-dispatcher")

    assert "09:00–10:00" in jana.last.text


async def test_one_dispatcher_run_works_through_a_backlog_window_by_window(
    consultations: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import reminders as dispatcher

    monkeypatch.setattr(dispatcher, "WINDOW", 2)
    people_and_times = [(8020, "Jana", (10, 0)), (8021, "Lena", (11, 0)), (8022, "Mila", (14, 0))]
    for telegram_id, name, at in people_and_times:
        person = consultations.person(telegram_id, name, "de")
        await book_through_the_bot(person, "de", at=at)
        await person.tap(t("de").pgettext("booking", "✅ Book this appointment"))
    consultations.clock.current = local(2, 15, 0)  # every 24-hour reminder is due, no 2-hour one yet

    await consultations.run_job("reminder-dispatcher")

    async with consultations.sessions() as session:
        statuses = sorted(
            (await session.scalars(select(Reminder.status).where(Reminder.kind == "before_24h"))).all()
        )
    assert statuses == ["sent", "sent", "sent"]
