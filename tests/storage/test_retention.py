"""Retention on SQLite and PostgreSQL: cases closed longer than the retention period lose what
points to the person, once, with an audit entry; the statistics stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from handlers.retention_job import run_retention
from storage import audit, booking, report, retention
from storage.db import SessionFactory, session_scope
from storage.models import (
    Appointment,
    AuditEntry,
    Case,
    CaseNote,
    Consent,
    Goal,
    NeedAssessment,
    Person,
    Referral,
    Review,
)
from tests.support.case_data import BERLIN, add_appointment, add_case, add_goal, add_person, add_review, local

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
HALF_A_YEAR = timedelta(days=182)
CASE_RECORDS = (NeedAssessment, CaseNote, Referral)
PLAN_RECORDS = (Goal, Review)


@dataclass(frozen=True)
class Cases:
    due: str  # closed in March: due
    recent: str  # closed in September: not yet
    open: str  # still active
    booked: str  # closed in March, but booked again for next week
    person_id: int  # the person behind the due case


def consent(person: Person, purpose: str) -> Consent:
    return Consent(
        person_id=person.id,
        purpose=purpose,
        text_version="2026-11",
        language="ar",
        given_at=datetime(2026, 1, 5, tzinfo=UTC),
        given_how="chat",
    )


@pytest.fixture
async def cases(sessions: SessionFactory) -> Cases:
    async with session_scope(sessions) as session:
        anna = await add_person(session, 500, "Anna Berger")
        amira, karim, olena, dawit = [await add_person(session, 1000 + n) for n in range(4)]

        due = await add_case(session, amira, status="closed", closed_at=datetime(2026, 3, 1, tzinfo=UTC))
        due.extension_reason = "token"
        await add_appointment(session, due, local(2026, 1, 15), advisor=anna, kind="first")
        await add_appointment(session, due, local(2026, 2, 10), advisor=anna)
        await add_appointment(session, due, local(2026, 2, 20), advisor=anna, status="no_show")
        await add_goal(session, due, local(2026, 1, 20))
        await add_review(session, due, local(2026, 2, 10), by=anna)
        now = local(2026, 2, 10)
        session.add(NeedAssessment(case_id=due.id, area="work", status="need", note="token", updated_at=now))
        session.add(CaseNote(case_id=due.id, text="token", author_id=anna.id, created_at=now))
        session.add(Referral(case_id=due.id, status="done", created_at=now))
        for purpose in ("booking", "case", "referral", "reminders"):
            session.add(consent(amira, purpose))
        session.add(consent(karim, "case"))

        recent = await add_case(session, karim, status="closed", closed_at=datetime(2026, 9, 1, tzinfo=UTC))
        await add_goal(session, recent, local(2026, 5, 1))

        still_open = await add_case(session, olena)
        await add_goal(session, still_open, local(2026, 1, 20))

        booked = await add_case(session, dawit, status="closed", closed_at=datetime(2026, 3, 1, tzinfo=UTC))
        await add_appointment(session, booked, NOW + timedelta(days=7), advisor=anna, status="booked")
        return Cases(due.number, recent.number, still_open.number, booked.number, amira.id)


async def anonymise(sessions: SessionFactory, dry_run: bool = False) -> retention.RetentionResult:
    async with session_scope(sessions) as session:
        return await retention.anonymise_closed_cases(session, NOW, HALF_A_YEAR, dry_run=dry_run)


async def snapshot(sessions: SessionFactory) -> dict[str, object]:
    """Everything retention may touch, to compare before and after."""
    async with session_scope(sessions) as session:
        counts = {
            model.__tablename__: await session.scalar(select(func.count(model.id))) for model in CASE_RECORDS
        }
        return {
            **counts,
            "consents": sorted((c.person_id, c.purpose) for c in await session.scalars(select(Consent))),
            "cases": sorted(
                (c.number, c.person_id, c.first_name, c.extension_reason, c.anonymised_at)
                for c in await session.scalars(select(Case))
            ),
            "appointments": sorted((a.id, a.person_id) for a in await session.scalars(select(Appointment))),
            "audit": await session.scalar(select(func.count(AuditEntry.id))),
        }


async def test_a_case_closed_longer_than_the_retention_period_loses_what_points_to_the_person(
    sessions: SessionFactory, cases: Cases
) -> None:
    result = await anonymise(sessions)

    assert result.cases == (cases.due,)
    assert result.removed == {"need_assessments": 1, "case_notes": 1, "referrals": 1}
    assert result.emptied == {"goals": 1, "reviews": 1}
    assert (result.consents, result.appointments) == (2, 3)
    async with session_scope(sessions) as session:
        case = await session.scalar(select(Case).where(Case.number == cases.due))
        assert case is not None
        assert (case.person_id, case.first_name, case.extension_reason) == (None, None, None)
        assert (case.status, case.anonymised_at, case.opened_at) == (
            "closed",
            NOW,
            datetime(2026, 1, 2, tzinfo=UTC),
        )
        for model in CASE_RECORDS:
            assert await session.scalar(select(func.count(model.id)).where(model.case_id == case.id)) == 0
        goals = (await session.execute(select(Goal.goal, Goal.steps).where(Goal.case_id == case.id))).all()
        reviews = (await session.scalars(select(Review.summary).where(Review.case_id == case.id))).all()
        assert goals == [(None, None)] and reviews == [None], "dated rows without any text"
        kept = (await session.scalars(select(Appointment).where(Appointment.case_id == case.id))).all()
        assert [
            (a.person_id, a.kind, a.status, a.advisor_id is not None, a.language, a.topic) for a in kept
        ] == [
            (None, "first", "attended", True, "ar", "housing"),
            (None, "follow_up", "attended", True, "ar", "housing"),
            (None, "follow_up", "no_show", True, "ar", "housing"),
        ]
        # The person stays, with the consents that are not about the case.
        assert await session.get(Person, cases.person_id) is not None
        purposes = await session.scalars(select(Consent.purpose).where(Consent.person_id == cases.person_id))
        assert sorted(purposes) == ["booking", "reminders"]
        entries = (await session.scalars(select(AuditEntry))).all()
        assert [(e.actor_id, e.actor_role, e.action, e.case_number, e.at) for e in entries] == [
            (None, "system", "case.anonymised", cases.due, NOW)
        ]
        assert (await audit.verify_chain(session)).intact


async def test_recent_open_and_rebooked_cases_are_left_alone(sessions: SessionFactory, cases: Cases) -> None:
    before = await snapshot(sessions)

    await anonymise(sessions)

    after = await snapshot(sessions)
    untouched = {cases.recent, cases.open, cases.booked}
    assert [c for c in after["cases"] if c[0] in untouched] == [
        c for c in before["cases"] if c[0] in untouched
    ]
    assert after["case_notes"] == before["case_notes"] - 1
    async with session_scope(sessions) as session:
        karim = await session.scalar(select(Person.id).where(Person.telegram_id == 1001))
    assert (karim, "case") in after["consents"]  # only the due case's person loses consents


async def test_a_second_run_changes_nothing(sessions: SessionFactory, cases: Cases) -> None:
    await anonymise(sessions)
    before = await snapshot(sessions)

    again = await anonymise(sessions)

    assert again.cases == () and again.consents == 0 and again.appointments == 0
    assert set(again.removed.values()) == {0}
    assert await snapshot(sessions) == before
    assert "Anonymised no cases" in str(again)


async def test_a_dry_run_reports_what_would_happen_and_writes_nothing(
    sessions: SessionFactory, cases: Cases
) -> None:
    before = await snapshot(sessions)

    preview = await anonymise(sessions, dry_run=True)

    assert await snapshot(sessions) == before
    assert before["audit"] == 0
    assert str(preview).startswith(f"Would anonymise 1 case closed before 2026-04-02 12:00 UTC: {cases.due}")
    done = await anonymise(sessions)
    assert (done.cases, done.removed, done.emptied, done.consents, done.appointments) == (
        preview.cases,
        preview.removed,
        preview.emptied,
        preview.consents,
        preview.appointments,
    )


async def test_consultation_statistics_still_count_anonymised_cases(
    sessions: SessionFactory, cases: Cases
) -> None:
    """Consultations, plans written and reviews held keep what the report reads."""

    async def figures() -> report.Figures:
        async with session_scope(sessions) as session:
            result = await report.funding_report(session, date(2026, 1, 1), date(2026, 12, 31), BERLIN)
        return result.totals

    before = await figures()
    await anonymise(sessions)
    after = await figures()

    assert (before.people_counselled, before.first_consultations_held, before.consultations_held) == (1, 1, 2)
    assert (after.people_counselled, after.first_consultations_held) == (1, 1)
    assert (
        (after.consultations_held, after.no_shows) == (before.consultations_held, before.no_shows) == (2, 1)
    )
    assert before.integration_plans_written and before.reviews_held
    assert after == before, "every figure of the funding report survives anonymisation"


async def test_the_person_can_book_again_and_gets_a_new_case(sessions: SessionFactory, cases: Cases) -> None:
    await anonymise(sessions)

    async with session_scope(sessions) as session:
        new = await booking.case_for(session, cases.person_id, "Amira", NOW)

    assert new.number not in (cases.due, cases.recent, cases.open, cases.booked)
    assert new.status == "new"


async def test_the_daily_job_anonymises_with_the_configured_period(
    sessions: SessionFactory, cases: Cases
) -> None:
    context = SimpleNamespace(
        runtime=SimpleNamespace(sessions=sessions, retention=timedelta(days=400)), now=lambda: NOW
    )
    await run_retention(context)  # type: ignore[arg-type]
    assert (await snapshot(sessions))["audit"] == 0  # nothing was closed 400 days ago

    context.runtime.retention = HALF_A_YEAR
    await run_retention(context)  # type: ignore[arg-type]
    async with session_scope(sessions) as session:
        entries = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert entries == ["case.anonymised", "person.deleted"], "the anonymised case's person, unseen since"


# ---- people whose last contact is older than the retention period -------------------------------


async def idle_people(sessions: SessionFactory) -> dict[str, int]:
    """People around the cases: one only looked at offers long ago, one recently, a staff member
    unseen for long; their telegram ids by name."""
    async with session_scope(sessions) as session:
        await add_person(session, 2000, seen=datetime(2026, 2, 1, tzinfo=UTC))  # looked around, left
        await add_person(session, 2001, seen=NOW - timedelta(days=30))  # still around
        await add_person(session, 2002, "Ben Krause", seen=datetime(2025, 1, 1, tzinfo=UTC))  # staff
    return {"idle": 2000, "recent": 2001, "staff": 2002}


async def telegram_ids(sessions: SessionFactory) -> set[int]:
    async with session_scope(sessions) as session:
        return set((await session.scalars(select(Person.telegram_id))).all())


async def test_people_unseen_longer_than_the_period_without_open_case_or_booking_are_deleted(
    sessions: SessionFactory, cases: Cases
) -> None:
    extra = await idle_people(sessions)
    before = await telegram_ids(sessions)

    async with session_scope(sessions) as session:
        result = await retention.apply_retention(session, NOW, HALF_A_YEAR)

    assert result.cases.cases == (cases.due,)
    assert result.people.people == 2
    gone = before - await telegram_ids(sessions)
    # Amira (her closed case was just anonymised) and the person who only looked around; Karim's
    # recently closed case, Olena's open case and Dawit's booking keep theirs; staff stay.
    assert gone == {1000, extra["idle"]}
    async with session_scope(sessions) as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        assert [(e.actor_role, e.action, e.case_number) for e in entries] == [
            ("system", "case.anonymised", cases.due),
            ("system", "person.deleted", None),
            ("system", "person.deleted", None),
        ]
        assert (await audit.verify_chain(session)).intact
        anonymised = await session.scalar(select(Case).where(Case.number == cases.due))
        assert anonymised is not None, "the anonymised case stays for the statistics"
        assert (
            await session.scalar(select(func.count(Consent.id)).where(Consent.person_id == cases.person_id))
            == 0
        )


async def test_a_dry_run_counts_the_people_and_deletes_nobody(sessions: SessionFactory, cases: Cases) -> None:
    await idle_people(sessions)
    before = (await snapshot(sessions), await telegram_ids(sessions))

    async with session_scope(sessions) as session:
        preview = await retention.apply_retention(session, NOW, HALF_A_YEAR, dry_run=True)

    assert (await snapshot(sessions), await telegram_ids(sessions)) == before
    assert "Would delete 2 people without an open case or a booked appointment" in str(preview)
    async with session_scope(sessions) as session:
        done = await retention.apply_retention(session, NOW, HALF_A_YEAR)
    assert done.people.people == preview.people.people
    assert "Deleted 2 people" in str(done)
