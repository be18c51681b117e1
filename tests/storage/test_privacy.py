"""A person's privacy rights on SQLite and PostgreSQL: what is stored, a complete copy with the
case texts decrypted, withdrawing consents, and deleting everything without a trace."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.logs import PrivacyFormatter
from storage import (
    advisors,
    audit,
    booking,
    consent,
    data_export,
    pending,
    people,
    privacy,
    reminders,
    waiting_list,
)
from storage.booking import BookingPolicy
from storage.consent import Purpose
from storage.crypto import CaseCipher, new_key
from storage.db import SessionFactory, session_scope
from storage.models import (
    Appointment,
    AppointmentSlot,
    AuditEntry,
    Case,
    CaseNote,
    Goal,
    NeedAssessment,
    Person,
    Referral,
    Reminder,
    Review,
    Role,
)
from tests.support.traces import traces_of

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Hemmingen
POLICY = BookingPolicy(zone=BERLIN)
# Ids no other row can have, so every integer column of every table can be searched for them.
PERSON_ID = 7_340_017
TELEGRAM_ID = 9_123_456_789
FIRST_NAME = "Zuleikha"
MARKER = "Marker-Qx7-Hausaufgabe"
ADVISOR_TELEGRAM_ID = 500
OTHER_TELEGRAM_ID = 600


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@dataclass
class Story:
    """A refugee with everything a case can hold, their advisor, and someone else."""

    cipher: CaseCipher
    advisor_id: int
    other_id: int
    case_number: str
    upcoming_id: int
    past_id: int


async def tell_a_story(sessions: SessionFactory, name: str = FIRST_NAME, note: str = "") -> Story:
    cipher = CaseCipher([new_key()])
    async with session_scope(sessions) as session:
        advisor = await people.add_staff(session, ADVISOR_TELEGRAM_ID, Role.ADVISOR, "Anna Berger", NOW)
        await advisors.set_weekly_hours(session, advisor.id, 1, "09:00-12:00")
        other = await people.ensure_person(session, OTHER_TELEGRAM_ID, NOW)
        person = Person(
            id=PERSON_ID,
            telegram_id=TELEGRAM_ID,
            language="ar",
            role=Role.REFUGEE,
            first_seen=NOW,
            last_seen=NOW,
        )
        session.add(person)
        await session.flush()
        for purpose in (Purpose.BOOKING, Purpose.REMINDERS, Purpose.CASE_MANAGEMENT, Purpose.REFERRAL):
            await consent.give_consent(session, PERSON_ID, purpose, "ar", NOW - timedelta(days=30))
        await consent.give_consent(session, other.id, Purpose.BOOKING, "uk", NOW)
        upcoming = await booking.book(
            session,
            POLICY,
            NOW,
            person=person,
            advisor_id=advisor.id,
            starts_at=local(3, 10),
            topic="housing",
            language="ar",
            interpreter=False,
            first_name=name,
        )
        case = await session.get(Case, upcoming.case_id)
        assert case is not None
        case.extension_reason = cipher.encrypt("Wohnungssuche dauert länger")
        past = Appointment(
            case_id=case.id,
            person_id=PERSON_ID,
            advisor_id=advisor.id,
            starts_at=NOW - timedelta(days=7),
            ends_at=NOW - timedelta(days=7) + timedelta(hours=1),
            kind="first",
            topic="work",
            language="ar",
            interpreter=True,
            status="attended",
            booked_at=NOW - timedelta(days=10),
        )
        session.add(past)
        await session.flush()
        referral_consent = await consent.valid_consent(session, PERSON_ID, Purpose.REFERRAL)
        session.add_all(
            [
                NeedAssessment(
                    case_id=case.id,
                    area="language",
                    status="need",
                    note=cipher.encrypt("B1-Kurs gesucht"),
                    updated_at=NOW,
                ),
                Goal(
                    case_id=case.id,
                    area="work",
                    goal=cipher.encrypt("Praktikum finden"),
                    steps=cipher.encrypt("Lebenslauf schreiben"),
                    due_on=date(2026, 6, 30),
                    status="open",
                    created_at=NOW,
                    updated_at=NOW,
                ),
                Review(
                    case_id=case.id,
                    held_on=date(2026, 2, 23),
                    summary=cipher.encrypt("Gute Fortschritte"),
                    created_by=advisor.id,
                    created_at=NOW,
                ),
                CaseNote(
                    case_id=case.id,
                    appointment_id=past.id,
                    text=cipher.encrypt(f"Beratung zur Arbeit {note}".strip()),
                    author_id=advisor.id,
                    created_at=NOW - timedelta(days=7),
                ),
                Referral(case_id=case.id, consent_id=referral_consent.id, status="open", created_at=NOW),
            ]
        )
        await waiting_list.join_waiting_list(session, PERSON_ID, "money", "ar", False, NOW)
        await pending.wait_for_text(session, PERSON_ID, "search", {"asked": "offers"}, NOW)
        await audit.record(
            session,
            actor_id=advisor.id,
            actor_role="advisor",
            action="case.read",
            case_number=case.number,
            now=NOW,
        )
        return Story(cipher, advisor.id, other.id, case.number, upcoming.id, past.id)


async def test_what_is_stored_sums_up_consents_case_appointments_and_texts(sessions: SessionFactory) -> None:
    story = await tell_a_story(sessions)

    async with sessions() as session:
        data = await privacy.what_is_stored(session, PERSON_ID)

    assert data is not None
    assert (data.language, data.first_seen) == ("ar", NOW)
    assert [c.purpose for c in data.consents] == ["booking", "reminders", "case", "referral"]
    assert all(c.in_force and c.how == "chat" and c.version == "2026-11" for c in data.consents)
    assert data.case == privacy.CaseSummary(story.case_number, "new", NOW, True)
    assert [(a.starts_at, a.status, a.topic) for a in data.appointments] == [
        (NOW - timedelta(days=7), "attended", "work"),
        (local(3, 10), "booked", "housing"),
    ]
    assert [(w.topic, w.status) for w in data.waiting] == [("money", "waiting")]
    assert data.referrals == 1 and data.has_case_texts


async def test_someone_who_only_wrote_once_has_little_stored(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, TELEGRAM_ID, NOW)
        data = await privacy.what_is_stored(session, person.id)

    assert data is not None
    assert (data.consents, data.case, data.appointments, data.waiting) == ((), None, (), ())
    assert not data.has_case_texts and data.referrals == 0


async def test_the_export_holds_everything_with_the_case_texts_decrypted(sessions: SessionFactory) -> None:
    story = await tell_a_story(sessions)

    async with sessions() as session:
        data = await data_export.export_person_data(session, story.cipher, PERSON_ID, NOW)

    dumped = json.dumps(data, ensure_ascii=False)
    assert json.loads(dumped) == data, "JSON all the way down"
    assert data["person"] == {
        "telegram_id": TELEGRAM_ID,
        "language": "ar",
        "role": "refugee",
        "first_seen": NOW.isoformat(),
        "last_seen": NOW.isoformat(),
        "blocked_at": None,
    }
    assert len(data["consents"]) == 4 and data["consents"][0]["given_at"] == (NOW - timedelta(30)).isoformat()
    case = data["case"]
    assert (case["number"], case["first_name"], case["extension_reason"]) == (
        story.case_number,
        FIRST_NAME,
        "Wohnungssuche dauert länger",
    )
    assert data["needs_assessment"][0] | {"updated_at": None} == {
        "area": "language",
        "status": "need",
        "note": "B1-Kurs gesucht",
        "updated_at": None,
    }
    assert (data["goals"][0]["goal"], data["goals"][0]["steps"], data["goals"][0]["due_on"]) == (
        "Praktikum finden",
        "Lebenslauf schreiben",
        "2026-06-30",
    )
    assert (data["reviews"][0]["summary"], data["reviews"][0]["by"]) == ("Gute Fortschritte", "Anna")
    assert data["consultation_notes"][0] | {"created_at": None} == {
        "created_at": None,
        "appointment_starts_at": (NOW - timedelta(days=7)).isoformat(),
        "text": "Beratung zur Arbeit",
        "by": "Anna",
    }
    assert data["referrals"] == [{"offer": None, "status": "open", "created_at": NOW.isoformat()}]
    upcoming = data["appointments"][1]
    assert (upcoming["starts_at"], upcoming["status"], upcoming["advisor"]) == (
        local(3, 10).isoformat(),
        "booked",
        "Anna",
    )
    assert {r["kind"]: r["status"] for r in upcoming["reminders"]} == {
        "before_24h": "pending",
        "before_2h": "pending",
        "outcome": "pending",
    }
    assert data["waiting_list"][0]["topic"] == "money"
    assert data["pending_question"] == {
        "kind": "search",
        "payload": {"asked": "offers"},
        "asked_at": NOW.isoformat(),
    }
    assert data["case_access_log"] == [
        {"at": NOW.isoformat(), "by": "Anna", "role": "advisor", "action": "case.read"}
    ]
    assert data["case_texts"] == "included" and "case_texts_note" not in data
    assert "gAAAAA" not in dumped, "no ciphertext, only the texts themselves"
    for foreign in ("Berger", str(ADVISOR_TELEGRAM_ID), str(OTHER_TELEGRAM_ID)):
        assert foreign not in dumped, "other people's data stays out (advisors by first name only)"


async def test_without_a_key_the_export_says_the_case_texts_are_missing(sessions: SessionFactory) -> None:
    await tell_a_story(sessions)

    async with sessions() as session:
        data = await data_export.export_person_data(session, None, PERSON_ID, NOW)

    assert data["case_texts"] == "not_included" and "encrypted" in data["case_texts_note"]
    assert data["consultation_notes"][0]["text"] is None and data["goals"][0]["goal"] is None
    assert "gAAAAA" not in json.dumps(data), "ciphertext is no use to the person"


async def test_with_the_wrong_key_the_export_says_texts_are_unreadable(sessions: SessionFactory) -> None:
    await tell_a_story(sessions)

    async with sessions() as session:
        data = await data_export.export_person_data(session, CaseCipher([new_key()]), PERSON_ID, NOW)

    assert data["case_texts"] == "partly_unreadable" and data["reviews"][0]["summary"] is None


async def test_deleting_everything_leaves_no_trace_of_the_person(sessions: SessionFactory) -> None:
    story = await tell_a_story(sessions)
    assert await traces_of(
        sessions, person_id=PERSON_ID, telegram_id=TELEGRAM_ID, name=FIRST_NAME, every_integer=True
    ), "the scan finds the person before"

    async with session_scope(sessions) as session:
        deletion = await privacy.delete_everything(session, PERSON_ID, NOW)

    (cancelled,) = deletion.cancelled
    assert cancelled.advisor is not None
    assert (cancelled.advisor.telegram_id, cancelled.advisor.language, cancelled.advisor.id) == (
        ADVISOR_TELEGRAM_ID,
        None,
        story.advisor_id,
    )
    assert (cancelled.starts_at, cancelled.case_number, cancelled.first_name) == (
        local(3, 10),
        story.case_number,
        FIRST_NAME,
    )
    assert deletion.removed["people"] == 1 and deletion.removed["appointments"] == 2
    assert (
        await traces_of(
            sessions, person_id=PERSON_ID, telegram_id=TELEGRAM_ID, name=FIRST_NAME, every_integer=True
        )
        == []
    )
    async with sessions() as session:
        assert (await session.scalars(select(AppointmentSlot))).all() == [], "the advisor's time is free"
        assert await session.get(Person, story.other_id) is not None, "nobody else is touched"
        assert await consent.valid_consent(session, story.other_id, Purpose.BOOKING) is not None
        tombstone = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        chain = await audit.verify_chain(session)
    assert tombstone is not None
    assert (tombstone.actor_id, tombstone.actor_role, tombstone.action, tombstone.case_number) == (
        None,
        "person",
        "person.deleted",
        None,
    )
    assert tombstone.detail is None and chain.intact and chain.entries == 2


async def test_the_freed_time_can_be_booked_by_someone_else(sessions: SessionFactory) -> None:
    story = await tell_a_story(sessions)
    async with session_scope(sessions) as session:
        await privacy.delete_everything(session, PERSON_ID, NOW)

    async with session_scope(sessions) as session:
        other = await session.get(Person, story.other_id)
        assert other is not None
        appointment = await booking.book(
            session,
            POLICY,
            NOW,
            person=other,
            advisor_id=story.advisor_id,
            starts_at=local(3, 10),
            topic="work",
            language="uk",
            interpreter=True,
        )
    assert appointment.starts_at == local(3, 10)


async def test_staff_cannot_delete_their_account_themselves(sessions: SessionFactory) -> None:
    story = await tell_a_story(sessions)

    async with session_scope(sessions) as session:
        with pytest.raises(privacy.DeletionRefused):
            await privacy.delete_everything(session, story.advisor_id, NOW)
        assert await session.get(Person, story.advisor_id) is not None


async def test_withdrawing_the_booking_consent_keeps_appointments_but_not_new_bookings(
    sessions: SessionFactory,
) -> None:
    story = await tell_a_story(sessions)

    async with session_scope(sessions) as session:
        assert await privacy.withdraw(session, PERSON_ID, "booking", NOW)
        assert not await privacy.withdraw(session, PERSON_ID, "booking", NOW), "nothing left to withdraw"

    async with session_scope(sessions) as session:
        assert (await session.get(Appointment, story.upcoming_id)).status == "booked"
        person = await session.get(Person, PERSON_ID)
        with pytest.raises(consent.ConsentMissing):
            await booking.book(
                session,
                POLICY,
                NOW,
                person=person,
                advisor_id=story.advisor_id,
                starts_at=local(3, 9),
                topic="work",
                language="ar",
                interpreter=False,
            )
    async with session_scope(sessions) as session:
        await consent.give_consent(session, PERSON_ID, Purpose.BOOKING, "ar", NOW)
        person = await session.get(Person, PERSON_ID)
        again = await booking.book(
            session,
            POLICY,
            NOW,
            person=person,
            advisor_id=story.advisor_id,
            starts_at=local(3, 9),
            topic="work",
            language="ar",
            interpreter=False,
        )
    assert again.status == "booked", "consenting again makes booking possible again"


async def test_withdrawing_the_reminder_consent_drops_pending_reminders(sessions: SessionFactory) -> None:
    story = await tell_a_story(sessions)

    async with session_scope(sessions) as session:
        assert await privacy.withdraw(session, PERSON_ID, Purpose.REMINDERS, NOW)

    async with session_scope(sessions) as session:
        statuses = {
            r.kind: r.status
            for r in await session.scalars(
                select(Reminder).where(Reminder.appointment_id == story.upcoming_id)
            )
        }
        claimed = await reminders.claim_due(session, local(3, 9, 30))
        valid = await consent.valid_consent(session, PERSON_ID, Purpose.REMINDERS)
    assert statuses == {"before_24h": "dropped", "before_2h": "dropped", "outcome": "pending"}, (
        "the advisor's question after the talk is no reminder to the person"
    )
    assert claimed == [], "the dispatcher sends nothing dropped"
    assert valid is None


async def test_withdrawing_the_case_consent_is_recorded_and_nothing_else_changes(
    sessions: SessionFactory,
) -> None:
    await tell_a_story(sessions)
    later = NOW + timedelta(hours=1)

    async with session_scope(sessions) as session:
        assert await privacy.withdraw(session, PERSON_ID, "case", later)

    async with sessions() as session:
        data = await privacy.what_is_stored(session, PERSON_ID)
    assert data is not None
    withdrawn = {c.purpose: c.withdrawn_at for c in data.consents}
    assert withdrawn == {"booking": None, "reminders": None, "case": later, "referral": None}
    assert data.has_case_texts, "what is stored stays until the person deletes it"


async def test_an_unknown_purpose_is_refused(sessions: SessionFactory) -> None:
    await tell_a_story(sessions)
    async with session_scope(sessions) as session:
        with pytest.raises(ValueError):
            await privacy.withdraw(session, PERSON_ID, "marketing", NOW)


async def test_personal_data_never_reaches_the_logs(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    story = await tell_a_story(sessions, name=MARKER, note=MARKER)
    caplog.set_level(logging.DEBUG)  # every logger, including the database drivers' SQL echo

    async with session_scope(sessions) as session:
        await privacy.what_is_stored(session, PERSON_ID)
        data = await data_export.export_person_data(session, story.cipher, PERSON_ID, NOW)
        await privacy.withdraw(session, PERSON_ID, Purpose.REMINDERS, NOW)
    async with session_scope(sessions) as session:
        await privacy.delete_everything(session, PERSON_ID, NOW)

    assert MARKER in json.dumps(data), "the marker was planted where the export finds it"
    formatter = PrivacyFormatter()
    for record in caplog.records:
        assert MARKER not in record.getMessage()
        assert MARKER not in formatter.format(record)
