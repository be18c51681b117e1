"""Retention: cases closed longer than the retention period lose everything that points to a person,
and people whose last contact is longer ago than the period are deleted.

What goes: the needs assessment, consultation notes and referrals, the texts of the integration
plan's goals and reviews, the case's link to the person, their first name and the extension reason,
and the person's consents for case management and referrals. What stays, for the funding report:
the case number, status and dates; its appointments' kind, status, times, advisor, language and
topic, no longer linked to the person; and its goals and reviews as dated rows without any text, so
plans written and reviews held still count. The person themself stays: they may still look up offers or book
again, which opens a new case.

People without an open case and without a booked appointment still to come, whose last contact is
older than the retention period, are then deleted the way "delete everything" deletes them
(``storage.privacy``), each with an audit entry by the system: what the booking consent promises
("at most … after your last contact") holds. Staff are never deleted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.consent import Purpose
from storage.models import (
    Appointment,
    AppointmentStatus,
    Case,
    CaseNote,
    Consent,
    Goal,
    NeedAssessment,
    Person,
    Referral,
    Review,
    Role,
)
from storage.privacy import delete_everything

CASE_CONSENTS = (Purpose.CASE_MANAGEMENT.value, Purpose.REFERRAL.value)
CASE_RECORDS = (NeedAssessment, CaseNote, Referral)  # deleted
PLAN_RECORDS = (Goal, Review)  # kept for the statistics, their texts emptied


@dataclass(frozen=True)
class RetentionResult:
    """What a retention run anonymised (or, in a dry run, would have)."""

    dry_run: bool
    cutoff: datetime  # cases closed before this moment are due
    cases: tuple[str, ...]  # case numbers
    removed: dict[str, int]  # table name → rows deleted
    emptied: dict[str, int]  # table name → rows kept without their texts
    consents: int
    appointments: int  # kept for statistics, unlinked from the person

    def __str__(self) -> str:
        verb = "Would anonymise" if self.dry_run else "Anonymised"
        if not self.cases:
            return f"{verb} no cases: none was closed before {self.cutoff:%Y-%m-%d %H:%M} UTC."
        removed = ", ".join(f"{count} {table}" for table, count in self.removed.items())
        emptied = ", ".join(f"{count} {table}" for table, count in self.emptied.items())
        cases = "1 case" if len(self.cases) == 1 else f"{len(self.cases)} cases"
        return (
            f"{verb} {cases} closed before {self.cutoff:%Y-%m-%d %H:%M} UTC: "
            f"{', '.join(self.cases)}\n"
            f"  removed: {removed}, {self.consents} consents\n"
            f"  texts removed, dates kept for statistics: {emptied}\n"
            f"  kept for statistics, without the person: {self.appointments} appointments"
        )


def _is_due(now: datetime, cutoff: datetime) -> ColumnElement[bool]:
    """Closed, not yet anonymised cases closed before the cutoff, without an upcoming booking."""
    upcoming = exists().where(
        Appointment.case_id == Case.id,
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.ends_at > now,
    )
    return and_(Case.status == "closed", Case.closed_at < cutoff, Case.anonymised_at.is_(None), ~upcoming)


async def _due_cases(session: AsyncSession, now: datetime, cutoff: datetime, lock: bool) -> Sequence[Case]:
    query = select(Case).where(_is_due(now, cutoff)).order_by(Case.id)
    if lock:
        # Several instances may run the daily job at once: each case is anonymised by one of them.
        query = query.with_for_update(skip_locked=True)
    return (await session.scalars(query)).all()


async def _count(session: AsyncSession, column: object, condition: object) -> int:
    return await session.scalar(select(func.count(column)).where(condition)) or 0


async def anonymise_closed_cases(
    session: AsyncSession, now: datetime, after: timedelta, dry_run: bool = False
) -> RetentionResult:
    """Anonymise every case closed longer than ``after`` ago; a dry run only counts.

    Idempotent: anonymised cases are never touched again. Each anonymised case gets one audit entry."""
    cutoff = now - after
    cases = await _due_cases(session, now, cutoff, lock=not dry_run)
    case_ids = [case.id for case in cases]
    person_ids = [case.person_id for case in cases if case.person_id is not None]
    removed = {
        model.__tablename__: await _count(session, model.id, model.case_id.in_(case_ids))
        for model in CASE_RECORDS
    }
    emptied = {
        model.__tablename__: await _count(session, model.id, model.case_id.in_(case_ids))
        for model in PLAN_RECORDS
    }
    consent_rows = Consent.person_id.in_(person_ids) & Consent.purpose.in_(CASE_CONSENTS)
    consents = await _count(session, Consent.id, consent_rows)
    appointments = await _count(session, Appointment.id, Appointment.case_id.in_(case_ids))
    result = RetentionResult(
        dry_run=dry_run,
        cutoff=cutoff,
        cases=tuple(case.number for case in cases),
        removed=removed,
        emptied=emptied,
        consents=consents,
        appointments=appointments,
    )
    if dry_run or not cases:
        return result

    for model in CASE_RECORDS:
        await session.execute(delete(model).where(model.case_id.in_(case_ids)))
    await session.execute(update(Goal).where(Goal.case_id.in_(case_ids)).values(goal=None, steps=None))
    await session.execute(update(Review).where(Review.case_id.in_(case_ids)).values(summary=None))
    await session.execute(delete(Consent).where(consent_rows))
    await session.execute(update(Appointment).where(Appointment.case_id.in_(case_ids)).values(person_id=None))
    for case in cases:
        case.person_id = None
        case.first_name = None
        case.extension_reason = None
        case.anonymised_at = now
    await session.flush()
    for case in cases:
        await audit.record(
            session,
            actor_id=None,
            actor_role="system",
            action="case.anonymised",
            case_number=case.number,
            now=now,
        )
    return result


@dataclass(frozen=True)
class InactivePeople:
    """How many people a retention run deleted (or, in a dry run, would have) after their last contact."""

    dry_run: bool
    cutoff: datetime  # people last seen before this moment are due
    people: int

    def __str__(self) -> str:
        verb = "Would delete" if self.dry_run else "Deleted"
        who = "1 person" if self.people == 1 else f"{self.people} people"
        return (
            f"{verb} {who} without an open case or a booked appointment, last seen before "
            f"{self.cutoff:%Y-%m-%d %H:%M} UTC."
        )


async def _inactive_people(session: AsyncSession, now: datetime, cutoff: datetime, lock: bool) -> list[int]:
    """Non-staff people last seen before the cutoff, without a booked appointment still to come
    and without a case that stays (a case due for anonymisation in this run does not count)."""
    upcoming = exists().where(
        Appointment.person_id == Person.id,
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.ends_at > now,
    )
    kept_case = exists().where(Case.person_id == Person.id, ~_is_due(now, cutoff))
    query = (
        select(Person.id)
        .where(Person.role == Role.REFUGEE, Person.last_seen < cutoff, ~upcoming, ~kept_case)
        .order_by(Person.id)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return list((await session.scalars(query)).all())


async def delete_inactive_people(
    session: AsyncSession, now: datetime, after: timedelta, dry_run: bool = False
) -> InactivePeople:
    """Delete everyone whose last contact is longer than ``after`` ago and who has no open case
    and no booked appointment still to come; a dry run only counts. Run after
    :func:`anonymise_closed_cases`, which unlinks the cases that were due."""
    cutoff = now - after
    due = await _inactive_people(session, now, cutoff, lock=not dry_run)
    if not dry_run:
        for person_id in due:
            await delete_everything(session, person_id, now, actor_role="system")
    return InactivePeople(dry_run=dry_run, cutoff=cutoff, people=len(due))


@dataclass(frozen=True)
class RetentionRun:
    """Both steps of a retention run."""

    cases: RetentionResult
    people: InactivePeople

    def __str__(self) -> str:
        return f"{self.cases}\n{self.people}"


async def apply_retention(
    session: AsyncSession, now: datetime, after: timedelta, dry_run: bool = False
) -> RetentionRun:
    """The nightly retention: anonymise closed cases that are due, then delete inactive people."""
    cases = await anonymise_closed_cases(session, now, after, dry_run=dry_run)
    people = await delete_inactive_people(session, now, after, dry_run=dry_run)
    return RetentionRun(cases, people)
