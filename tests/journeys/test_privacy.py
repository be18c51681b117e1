"""Privacy and my data as people use it, in Arabic, Ukrainian and German: see what is stored,
withdraw a consent, get a copy of everything, delete everything (and start anew)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.logs import PrivacyFormatter
from handlers import booking as booking_flow
from handlers import privacy_export
from handlers import privacy_texts as flow
from handlers.start import welcome_text
from locales import ENDONYMS, Translator
from storage import advisors, booking, consent, people, privacy
from storage.crypto import CaseCipher, new_key
from storage.db import session_scope
from storage.models import (
    GOAL_STATUSES,
    NEED_AREAS,
    NEED_STATUSES,
    Appointment,
    Case,
    CaseNote,
    Consent,
    NeedAssessment,
    Person,
    Role,
)
from tests.support.harness import BotUnderTest, SimulatedPerson
from tests.support.traces import traces_of

BERLIN = ZoneInfo("Europe/Berlin")
ADVISOR = 870000
MUNICIPALITY = "Hemmingen"


def t(language: str) -> Translator:
    return Translator(language, BERLIN)


@pytest.fixture
async def consultations(bot: BotUnderTest) -> BotUnderTest:
    """An advisor with hours on Tuesdays, and a case-data key the bot can decrypt with."""
    await bot.make_staff(ADVISOR, Role.ADVISOR, "Anna Berger")
    async with session_scope(bot.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        await advisors.set_weekly_hours(session, anna.id, 1, "09:00-12:00")
        (await advisors.profile(session, anna.id)).languages = ["de", "ar"]
    bot.settings = bot.settings.model_copy(update={"case_data_key": SecretStr(new_key())})
    await bot.restart()
    await bot.person(ADVISOR, "Anna", "de").send("/start")
    return bot


def cipher_of(bot: BotUnderTest) -> CaseCipher:
    return CaseCipher(bot.settings.case_keys())


async def book(person: SimulatedPerson, language: str) -> None:
    """Book the first free time through the bot, agreeing to the booking consent."""
    (first,) = await person.send("/book")
    await person.tap("bagree:yes:-", first)
    await person.tap("btopic:housing:-")
    await person.tap(ENDONYMS[language])
    await person.tap(person.last.buttons[0]["callback_data"])
    await person.tap(person.last.buttons[0]["callback_data"])
    await person.tap(t(language).pgettext("booking", "✅ Book this appointment"))


async def person_id_of(bot: BotUnderTest, telegram_id: int) -> int:
    async with bot.sessions() as session:
        person = await people.person_by_telegram_id(session, telegram_id)
    assert person is not None
    return person.id


async def stored(bot: BotUnderTest, telegram_id: int) -> privacy.PersonData:
    async with bot.sessions() as session:
        data = await privacy.what_is_stored(session, await person_id_of(bot, telegram_id))
    assert data is not None
    return data


async def write_case_note(bot: BotUnderTest, telegram_id: int, text: str) -> None:
    """What the advisor writes after a talk: stored encrypted, as the case store does."""
    cipher = cipher_of(bot)
    async with session_scope(bot.sessions) as session:
        person_id = await person_id_of(bot, telegram_id)
        case = await session.scalar(select(Case).where(Case.person_id == person_id))
        assert case is not None
        session.add(
            CaseNote(
                case_id=case.id, text=cipher.encrypt(text), author_id=case.advisor_id, created_at=bot.clock()
            )
        )
        session.add(
            NeedAssessment(
                case_id=case.id,
                area="language",
                status="need",
                note=cipher.encrypt(text),
                updated_at=bot.clock(),
            )
        )


async def test_an_arabic_speaker_sees_what_is_stored_and_withdraws_the_booking_consent(
    consultations: BotUnderTest,
) -> None:
    amira = consultations.person(870001, "Amira", "ar")
    arabic = t("ar")
    await book(amira, "ar")

    (screen,) = await amira.send("/privacy")

    data = await stored(consultations, 870001)
    assert screen.html == flow.overview_text(arabic, data)
    assert data.case is not None and data.case.number in screen.text
    assert [(c.purpose, c.language, c.how) for c in data.consents] == [
        ("booking", "ar", "chat"),
        ("reminders", "ar", "chat"),
    ]
    assert arabic.date(consultations.clock().date(), "long") in screen.text, "when the consent was given"
    assert [b["callback_data"] for b in screen.buttons] == [
        "pwdraw:booking",
        "pwdraw:reminders",
        "pexport",
        "pdelete",
        "menu:home",
    ]

    await amira.tap(flow.withdraw_button_label(arabic, "booking"), screen)

    assert amira.last.html == flow.withdrawn_text(arabic, "booking")
    assert amira.last.message_id == screen.message_id, "answered in place"
    async with consultations.sessions() as session:
        given = (await session.scalars(select(Consent).where(Consent.purpose == "booking"))).one()
        reminders = (await session.scalars(select(Consent).where(Consent.purpose == "reminders"))).one()
        appointment = (await session.scalars(select(Appointment))).one()
    assert given.withdrawn_at == consultations.clock()
    assert reminders.withdrawn_at is None, "each consent is withdrawn on its own"
    assert appointment.status == "booked", "withdrawing cancels nothing already booked"

    (again,) = await amira.send("/book")
    retention = timedelta(days=consultations.settings.retention_days)
    assert again.html == booking_flow.consent_text(arabic, MUNICIPALITY, retention), "asked to agree again"

    overview = await amira.tap("priv", screen)
    assert [b["callback_data"] for b in overview.buttons] == [
        "pwdraw:reminders",
        "pexport",
        "pdelete",
        "menu:home",
    ]
    assert (
        arabic.pgettext(
            "privacy",
            "✖ {purpose}: given on {date}, withdrawn on {withdrawn}.",
            purpose=flow.purpose_label(arabic, "booking"),
            date=arabic.date(consultations.clock().date(), "long"),
            withdrawn=arabic.date(consultations.clock().date(), "long"),
        )
        in overview.html
    )


async def test_the_menu_button_opens_privacy_and_nothing_is_stored_for_someone_new(bot: BotUnderTest) -> None:
    jana = bot.person(870002, "Jana", "de")
    (menu,) = await jana.send("/start")

    await jana.tap("menu:privacy", menu)

    german = t("de")
    assert jana.last.message_id == menu.message_id
    assert jana.last.html == flow.overview_text(german, await stored(bot, 870002))
    assert german.pgettext("privacy", "You have not given any consent.") in jana.last.html
    assert jana.last_query.answered


async def test_a_ukrainian_speaker_gets_all_their_data_as_two_files(consultations: BotUnderTest) -> None:
    olena = consultations.person(870003, "Olena", "uk")
    ukrainian = t("uk")
    await book(olena, "uk")
    await write_case_note(consultations, 870003, "Sucht einen B1-Kurs am Abend")
    advisor_chat_before = len(consultations.world.chats[ADVISOR])

    (screen,) = await olena.send("/privacy")
    await olena.tap(ukrainian.pgettext("privacy", "📥 Send me my data"), screen)

    assert olena.last_query.answer_text == ukrainian.pgettext("privacy", "Your data is on its way.")
    as_json, as_text = olena.bot_messages[-2:]
    assert (as_json.document["file_name"], as_text.document["file_name"]) == (
        privacy_export.JSON_FILE,
        privacy_export.TEXT_FILE,
    )
    data = json.loads(consultations.world.files[as_json.document["file_id"]].content.decode("utf-8"))
    assert data["person"]["telegram_id"] == 870003 and data["person"]["language"] == "uk"
    assert data["case"]["first_name"] == "Olena"
    assert data["consultation_notes"][0]["text"] == "Sucht einen B1-Kurs am Abend"
    assert data["needs_assessment"][0]["note"] == "Sucht einen B1-Kurs am Abend"
    assert data["case_texts"] == "included"
    assert data["appointments"][0]["advisor"] == "Anna", "advisors by first name only"
    assert str(ADVISOR) not in json.dumps(data) and "Berger" not in json.dumps(data)
    readable = consultations.world.files[as_text.document["file_id"]].content.decode("utf-8")
    assert readable == privacy_export.readable_copy(ukrainian, data)
    assert "Sucht einen B1-Kurs am Abend" in readable and data["case"]["number"] in readable
    assert len(consultations.world.chats[ADVISOR]) == advisor_chat_before, "nobody else gets anything"


async def test_a_copy_goes_only_to_the_chat_that_asked(consultations: BotUnderTest) -> None:
    amira, ali = consultations.person(870004, "Amira", "ar"), consultations.person(870005, "Ali", "fa")
    await book(amira, "ar")
    (screen,) = await ali.send("/privacy")
    amira_before = len(amira.chat)

    await ali.tap_data(screen, flow.EXPORT.encode(), forged=True)

    data = json.loads(consultations.world.files[ali.bot_messages[-2].document["file_id"]].content)
    assert data["person"]["telegram_id"] == 870005 and data["case"] is None
    assert len(amira.chat) == amira_before
    assert "Amira" not in json.dumps(data)


async def test_without_a_key_the_copy_says_the_case_notes_are_missing(consultations: BotUnderTest) -> None:
    olena = consultations.person(870006, "Olena", "uk")
    await book(olena, "uk")
    await write_case_note(consultations, 870006, "Notiz")
    consultations.settings = consultations.settings.model_copy(update={"case_data_key": None})
    await consultations.restart()

    (screen,) = await olena.send("/privacy")
    await olena.tap("pexport", screen)

    data = json.loads(consultations.world.files[olena.bot_messages[-2].document["file_id"]].content)
    readable = consultations.world.files[olena.bot_messages[-1].document["file_id"]].content.decode()
    assert data["case_texts"] == "not_included" and data["consultation_notes"][0]["text"] is None
    assert (
        t("uk").pgettext(
            "privacy",
            "Your case also holds notes that are stored encrypted and could not be included in "
            "this copy. Please ask the integration management for them.",
        )
        in readable
    )


@pytest.mark.parametrize("language", ["ar", "de"])
async def test_deleting_everything_tells_the_advisor_and_leaves_nothing(
    consultations: BotUnderTest, language: str
) -> None:
    telegram_id = 870010
    person = consultations.person(telegram_id, "Amira", language)
    texts = t(language)
    await book(person, language)
    await write_case_note(consultations, telegram_id, "Braucht Hilfe bei der Wohnungssuche")
    person_id = await person_id_of(consultations, telegram_id)
    async with consultations.sessions() as session:
        case = await session.scalar(select(Case).where(Case.person_id == person_id))
        appointment = (await session.scalars(select(Appointment))).one()
    assert case is not None

    (screen,) = await person.send("/privacy")
    await person.tap(texts.pgettext("privacy", "🗑 Delete everything"), screen)
    assert person.last.html == flow.delete_question(texts)
    assert [b["callback_data"] for b in person.last.buttons] == ["pdelok", "priv"]
    await person.tap(texts.pgettext("privacy", "🗑 Yes, delete everything"))

    assert person.last.html == flow.deleted_text(texts, 1)
    notice = consultations.world.chats[ADVISOR][-1]
    assert notice.html == flow.advisor_deletion_notice(
        t("de"),
        privacy.CancelledAppointment(None, appointment.starts_at, appointment.ends_at, case.number, "Amira"),
    )
    assert "Amira" in notice.text and case.number in notice.text and "09:00" in notice.text
    assert (
        await traces_of(consultations.sessions, person_id=person_id, telegram_id=telegram_id, name="Amira")
        == []
    )
    async with consultations.sessions() as session:
        for model in (Person, Case, Appointment, Consent, CaseNote):
            rows = await session.scalar(select(func.count()).select_from(model))
            assert rows == (1 if model is Person else 0), model.__name__  # only the advisor is left

    (greeting,) = await person.send("/start")
    assert greeting.html == welcome_text(texts, MUNICIPALITY), "greeted like on first contact"
    (screen,) = await person.send("/privacy")
    data = await stored(consultations, telegram_id)
    assert (data.consents, data.case, data.appointments) == ((), None, ())
    assert screen.html == flow.overview_text(texts, data)


async def test_saying_no_to_deleting_keeps_everything(consultations: BotUnderTest) -> None:
    olena = consultations.person(870011, "Olena", "uk")
    await book(olena, "uk")
    (screen,) = await olena.send("/privacy")
    await olena.tap("pdelete", screen)

    await olena.tap(t("uk").pgettext("privacy", "↩ No, keep my data"))

    assert olena.last.html == flow.overview_text(t("uk"), await stored(consultations, 870011))
    async with consultations.sessions() as session:
        assert (await session.scalars(select(Appointment))).one().status == "booked"


async def test_staff_are_not_deleted_from_the_chat(consultations: BotUnderTest) -> None:
    anna = SimulatedPerson(consultations, ADVISOR)
    (screen,) = await anna.send("/privacy")
    await anna.tap("pdelete", screen)
    await anna.tap("pdelok")

    assert anna.last.html == t("de").pgettext(
        "privacy",
        "Staff accounts cannot be deleted here. Please ask an admin to remove your staff role first.",
    )
    async with consultations.sessions() as session:
        assert await people.person_by_telegram_id(session, ADVISOR) is not None


async def test_the_person_s_data_never_reaches_the_logs(
    consultations: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """A marker in a consultation note and in the first name the case keeps: neither shows up in
    any log line while the person looks, exports and deletes, at DEBUG level on every logger
    (python-telegram-bot's own debug lines echo every Bot API call, so the marker is kept out of
    the Telegram profile and out of messages, where it would be sent on purpose)."""
    marker = "Marker-Zq4-Wohnung"
    person = consultations.person(870020, "Samira", "ar")
    await person.send("/start")
    person_id = await person_id_of(consultations, 870020)
    cipher = cipher_of(consultations)
    now = consultations.clock()
    async with session_scope(consultations.sessions) as session:
        anna = await people.person_by_telegram_id(session, ADVISOR)
        await consent.give_consent(session, person_id, "booking", "ar", now)
        case = await booking.case_for(session, person_id, marker, now)
        past = Appointment(
            case_id=case.id,
            person_id=person_id,
            advisor_id=anna.id,
            starts_at=now - timedelta(days=7),
            ends_at=now - timedelta(days=7) + timedelta(hours=1),
            kind="first",
            topic="work",
            language="ar",
            status="attended",
            booked_at=now - timedelta(days=9),
        )
        session.add(past)
        await session.flush()
        session.add(
            CaseNote(
                case_id=case.id,
                appointment_id=past.id,
                text=cipher.encrypt(f"{marker} sucht eine Wohnung"),
                author_id=anna.id,
                created_at=now,
            )
        )
    caplog.set_level(logging.DEBUG)

    (screen,) = await person.send("/privacy")
    await person.tap("pexport", screen)
    await person.tap("pdelete", screen)
    await person.tap("pdelok")

    exported = consultations.world.files[person.bot_messages[-2].document["file_id"]].content.decode()
    assert marker in exported, "the marker was planted where the export finds it"
    assert await traces_of(consultations.sessions, person_id=person_id, telegram_id=870020, name=marker) == []
    assert caplog.records, "logs were captured"
    formatter = PrivacyFormatter()
    for record in caplog.records:
        assert marker not in record.getMessage()
        assert marker not in formatter.format(record)


def test_every_need_area_and_status_has_a_label_of_its_own() -> None:
    english = t("en")
    assert len({flow.need_area_label(english, area) for area in NEED_AREAS}) == len(NEED_AREAS)
    statuses = {*NEED_STATUSES, *GOAL_STATUSES}
    assert len({flow.progress_label(english, status) for status in statuses}) == len(statuses)
