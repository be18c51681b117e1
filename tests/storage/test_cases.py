"""The case store's rules on SQLite and PostgreSQL: roles, consent, plan and review flags, the
counselling period, encryption at rest, and the tamper-evident audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage import audit, case_files, cases, consent, people
from storage.booking import case_for
from storage.consent import ConsentMissing, Purpose
from storage.crypto import CaseCipher, UnreadableText, new_key
from storage.db import SessionFactory, session_scope
from storage.models import Appointment, AuditEntry, Case, CaseNote, Goal, Role

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
CIPHER = CaseCipher([new_key()])


@pytest.fixture
async def world(sessions: SessionFactory) -> dict[str, int]:
    """A refugee with a case and case consent, her advisor Anna, another advisor, and an admin."""
    async with session_scope(sessions) as session:
        amira = await people.ensure_person(session, 1, NOW)
        anna = await people.add_staff(session, 10, Role.ADVISOR, "Anna", NOW)
        bernd = await people.add_staff(session, 11, Role.ADVISOR, "Bernd", NOW)
        jonas = await people.add_staff(session, 12, Role.ADMIN, "Jonas", NOW)
        case = await case_for(session, amira.id, "Amira", NOW)
        await consent.give_consent(session, amira.id, Purpose.CASE_MANAGEMENT, "ar", NOW)
        return {"amira": amira.id, "anna": anna.id, "bernd": bernd.id, "jonas": jonas.id, "case": case.id}


async def staff(session, person_id: int) -> cases.Staff:
    return await cases.staff_member(session, person_id)


async def test_an_advisor_takes_a_case_and_only_they_write_it(sessions: SessionFactory, world: dict) -> None:
    async with session_scope(sessions) as session:
        bernd = await staff(session, world["bernd"])
        assert [row.number for row in await case_files.list_cases(session, bernd, TODAY, NOW, "unassigned")]
        anna = await staff(session, world["anna"])
        taken = await cases.take_case(session, anna, world["case"], NOW)
        assert (taken.period_start, taken.period_end) == (TODAY, date(2029, 3, 2))
    async with session_scope(sessions) as session:
        bernd = await staff(session, world["bernd"])
        with pytest.raises(cases.CaseAccessDenied):
            await case_files.open_case(session, CIPHER, bernd, world["case"], TODAY, NOW)
        with pytest.raises(cases.CaseAccessDenied):
            await cases.add_note(session, CIPHER, bernd, world["case"], "no", NOW)
        jonas = await staff(session, world["jonas"])
        with pytest.raises(cases.CaseAccessDenied):
            await case_files.open_case(session, CIPHER, jonas, world["case"], TODAY, NOW)
        with pytest.raises(cases.CaseAccessDenied):
            await case_files.list_cases(session, jonas, TODAY, NOW)
        with pytest.raises(cases.CaseAccessDenied):
            await cases.staff_member(session, world["amira"])


async def test_no_case_data_without_a_valid_consent(sessions: SessionFactory, world: dict) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        await consent.withdraw_consent(session, world["amira"], Purpose.CASE_MANAGEMENT, NOW)
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        for write in (
            cases.set_need(session, CIPHER, anna, world["case"], "housing", "need", "damp flat", NOW),
            cases.add_goal(
                session,
                CIPHER,
                anna,
                world["case"],
                area="work",
                goal="job",
                steps=None,
                due_on=None,
                now=NOW,
            ),
            cases.add_note(session, CIPHER, anna, world["case"], "note", NOW),
        ):
            with pytest.raises(ConsentMissing):
                await write
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.record_consent_in_person(session, anna, world["case"], Purpose.CASE_MANAGEMENT, "ar", NOW)
        await cases.set_need(session, CIPHER, anna, world["case"], "housing", "need", "damp flat", NOW)
        given = await consent.valid_consent(session, world["amira"], Purpose.CASE_MANAGEMENT)
        assert (given.given_how, given.recorded_by) == ("in_person", world["anna"])


async def test_texts_are_encrypted_at_rest_and_read_back_for_the_advisor(
    sessions: SessionFactory, world: dict
) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        await cases.add_note(
            session, CIPHER, anna, world["case"], "Amira sucht eine Wohnung in Hemmingen", NOW
        )
        await cases.add_goal(
            session,
            CIPHER,
            anna,
            world["case"],
            area="language",
            goal="B1 bis Juli",
            steps="Integrationskurs anmelden",
            due_on=date(2026, 7, 31),
            now=NOW,
        )
    async with sessions() as session:
        stored = (await session.execute(text("SELECT text FROM case_notes"))).scalar_one()
        goal = (await session.execute(text("SELECT goal, steps FROM goals"))).one()
    # A Fernet token is URL-safe base64, so it may hold a short word such as "B1" by chance; the
    # whole texts hold spaces, which no token can.
    for plain, at_rest in zip(
        ("Amira sucht eine Wohnung in Hemmingen", "B1 bis Juli", "Integrationskurs anmelden"),
        (stored, *goal),
        strict=True,
    ):
        assert at_rest.startswith("gAAAAA") and plain not in at_rest and " " not in at_rest
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        file = await case_files.open_case(session, CIPHER, anna, world["case"], TODAY, NOW)
    assert file.notes[0][1] == "Amira sucht eine Wohnung in Hemmingen"
    assert file.goals[0][1:] == ("B1 bis Juli", "Integrationskurs anmelden")
    assert file.case.status == "plan"
    with pytest.raises(UnreadableText):
        CaseCipher([new_key()]).decrypt(stored)


async def test_a_case_without_a_plan_after_two_attended_consultations_is_flagged(
    sessions: SessionFactory, world: dict
) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        for week in (1, 2):
            start = NOW - timedelta(weeks=week)
            session.add(
                Appointment(
                    case_id=world["case"],
                    person_id=world["amira"],
                    advisor_id=world["anna"],
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    kind="first",
                    topic="work",
                    status="attended",
                    booked_at=start - timedelta(days=3),
                )
            )
    async with session_scope(sessions) as session:
        case = await session.get(Case, world["case"])
        assert "plan_missing" in await case_files.case_flags(session, case, TODAY)
        anna = await staff(session, world["anna"])
        await cases.add_goal(
            session,
            CIPHER,
            anna,
            world["case"],
            area="work",
            goal="Praktikum",
            steps=None,
            due_on=None,
            now=NOW,
        )
    async with session_scope(sessions) as session:
        case = await session.get(Case, world["case"])
        assert await case_files.case_flags(session, case, TODAY) == frozenset()
        assert "review_due" in await case_files.case_flags(session, case, TODAY + timedelta(days=92))
        anna = await staff(session, world["anna"])
        await cases.add_review(
            session,
            CIPHER,
            anna,
            world["case"],
            held_on=TODAY + timedelta(days=92),
            summary="Praktikum läuft",
            next_review_on=None,
            now=NOW,
        )
    async with session_scope(sessions) as session:
        case = await session.get(Case, world["case"])
        assert "review_due" not in await case_files.case_flags(session, case, TODAY + timedelta(days=100))
        assert "review_due" in await case_files.case_flags(session, case, TODAY + timedelta(days=92 + 91))
        assert (await case_files.weekly_flags(session, world["anna"], TODAY + timedelta(days=200)))[
            "review_due"
        ] == [case.number]


async def test_the_counselling_period_extends_once_and_warns_before_its_end(
    sessions: SessionFactory, world: dict
) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        case = await session.get(Case, world["case"])
        assert "period_ending" in await case_files.case_flags(session, case, date(2029, 1, 15))
        await cases.extend_period(session, CIPHER, anna, world["case"], "Ausbildung läuft noch", NOW)
        assert case.period_end == date(2030, 3, 2)
        with pytest.raises(cases.CaseRuleBroken) as again:
            await cases.extend_period(session, CIPHER, anna, world["case"], "noch einmal", NOW)
        assert again.value.reason == "extended"


async def test_closing_and_reopening(sessions: SessionFactory, world: dict) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        closed = await cases.close_case(session, anna, world["case"], NOW)
        assert (closed.status, closed.closed_at) == ("closed", NOW)
        reopened = await cases.reopen_case(session, anna, world["case"], NOW)
        assert (reopened.status, reopened.closed_at) == ("new", None)


async def test_every_staff_read_and_write_is_audited_in_an_intact_chain(
    sessions: SessionFactory, world: dict
) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await case_files.list_cases(session, anna, TODAY, NOW, "unassigned")
        await cases.take_case(session, anna, world["case"], NOW)
        await cases.set_need(session, CIPHER, anna, world["case"], "language", "need", None, NOW)
        await case_files.open_case(session, CIPHER, anna, world["case"], TODAY, NOW)
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        check = await audit.verify_chain(session)
    assert [(e.action, e.actor_id) for e in entries] == [
        ("cases.list", world["anna"]),
        ("case.take", world["anna"]),
        ("need.write", world["anna"]),
        ("case.read", world["anna"]),
    ]
    assert check.intact and check.entries == 4


async def test_the_audit_log_refuses_changes_and_a_forged_row_breaks_the_chain(
    sessions: SessionFactory, world: dict
) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        await case_files.open_case(session, CIPHER, anna, world["case"], TODAY, NOW)
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises((DBAPIError, IntegrityError)):
            async with session_scope(sessions) as session:
                await session.execute(text(statement))
    async with session_scope(sessions) as session:
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        session.add(
            AuditEntry(
                at=NOW,
                actor_id=None,
                actor_role="system",
                action="case.read",
                case_number=None,
                previous_hash=last.hash,
                hash="f" * 64,
            )
        )
    async with sessions() as session:
        check = await audit.verify_chain(session)
    assert not check.intact and check.broken_at == 3


async def test_a_referral_needs_the_sharing_consent_and_opens_a_case(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        person = await people.ensure_person(session, 99, NOW)
        with pytest.raises(ConsentMissing):
            await cases.request_referral(session, person.id, None, "Olena", NOW)
    async with session_scope(sessions) as session:
        await consent.give_consent(session, person.id, Purpose.REFERRAL, "uk", NOW)
        referral, case = await cases.request_referral(session, person.id, None, "Olena", NOW)
        again, _ = await cases.request_referral(session, person.id, None, "Olena", NOW)
        assert again.id == referral.id and case.first_name == "Olena"


async def test_wrong_values_are_refused(sessions: SessionFactory, world: dict) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        for call, reason in (
            (cases.set_need(session, CIPHER, anna, world["case"], "space", "need", None, NOW), "area"),
            (cases.set_need(session, CIPHER, anna, world["case"], "work", "urgent", None, NOW), "status"),
            (cases.add_note(session, CIPHER, anna, world["case"], "   ", NOW), "empty"),
            (cases.add_note(session, CIPHER, anna, world["case"], "x" * 8001, NOW), "too_long"),
        ):
            with pytest.raises(cases.CaseRuleBroken) as refused:
                await call
            assert refused.value.reason == reason
    async with sessions() as session:
        assert (await session.scalars(select(CaseNote))).all() == []
        assert (await session.scalars(select(Goal))).all() == []


async def test_a_closed_case_takes_no_new_case_data_and_without_consent_nothing_is_read(
    sessions: SessionFactory, world: dict
) -> None:
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        await cases.take_case(session, anna, world["case"], NOW)
        await cases.add_note(session, CIPHER, anna, world["case"], "vertraulich", NOW)
        await cases.close_case(session, anna, world["case"], NOW)
        with pytest.raises(cases.CaseRuleBroken) as closed:
            await cases.add_note(session, CIPHER, anna, world["case"], "noch eine", NOW)
        assert closed.value.reason == "closed"
        await cases.reopen_case(session, anna, world["case"], NOW)
        await consent.withdraw_consent(session, world["amira"], Purpose.CASE_MANAGEMENT, NOW)
    async with session_scope(sessions) as session:
        anna = await staff(session, world["anna"])
        file = await case_files.open_case(session, CaseCipher([new_key()]), anna, world["case"], TODAY, NOW)
    assert file.consent_missing and file.notes == [], "not even decrypted (a wrong key would have failed)"
