"""The case store's rules: who may read and write a case, consent before case data, the needs
assessment, the integration plan (goals and reviews), notes, referrals and the counselling period.
Every staff read and write is audited in the same unit of work. Reading case files and the flags
advisors act on live in ``storage.case_files``.

Roles: an advisor reads the cases assigned to them and the unassigned ones (to take them on) and
writes only their own; admins manage staff and offers but never read case contents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.booking import case_for
from storage.consent import Purpose, give_consent, require_consent
from storage.crypto import CaseCipher
from storage.models import (
    GOAL_STATUSES,
    NEED_AREAS,
    NEED_STATUSES,
    Appointment,
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

PERIOD_YEARS = 3
EXTENDED_YEARS = 4
REVIEW_EVERY = timedelta(days=91)
CASE_STATUSES = ("new", "assessment", "plan", "active", "closed")
MAX_TEXT = 8000


class CaseAccessDenied(PermissionError):
    """The staff member may not do this with this case (or is no advisor at all)."""


class CaseRuleBroken(ValueError):
    """The operation breaks a rule of the case store; ``reason`` is a stable code:
    area, status, empty, too_long, extended, closed, date."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Staff:
    """Who acts on case data, with the role read from the database."""

    person_id: int
    role: str


async def staff_member(session: AsyncSession, person_id: int) -> Staff:
    """The staff member behind a request, with their current role (re-read on every call)."""
    person = await session.get(Person, person_id)
    if person is None or person.role not in (Role.ADVISOR, Role.ADMIN):
        raise CaseAccessDenied("not staff")
    return Staff(person.id, person.role)


async def audited(
    session: AsyncSession,
    staff: Staff,
    action: str,
    case_number: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Record a staff member's read or write of case data in the audit log."""
    await audit.record(
        session,
        actor_id=staff.person_id,
        actor_role=staff.role,
        action=action,
        case_number=case_number,
        now=now,
        detail=detail,
    )


def may_read(staff: Staff, case: Case) -> bool:
    """Advisors read their own cases and the unassigned ones."""
    return staff.role == Role.ADVISOR and case.advisor_id in (staff.person_id, None)


def may_write(staff: Staff, case: Case) -> bool:
    """Advisors change only the cases assigned to them."""
    return staff.role == Role.ADVISOR and case.advisor_id == staff.person_id


async def case_for_staff(session: AsyncSession, staff: Staff, case_id: int, *, write: bool) -> Case:
    """The case if the staff member may read it (or, with ``write``, change it); else refused."""
    case = await session.get(Case, case_id)
    if case is None or case.anonymised_at is not None or not (may_write if write else may_read)(staff, case):
        raise CaseAccessDenied("case")
    return case


async def _open_for_writing(session: AsyncSession, staff: Staff, case_id: int) -> Case:
    """A case the advisor may write case data into: their own, not closed, with consent."""
    case = await case_for_staff(session, staff, case_id, write=True)
    if case.status == "closed":
        raise CaseRuleBroken("closed")
    await _case_consent(session, case)
    return case


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _clean(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise CaseRuleBroken("empty")
        return None
    if len(text) > MAX_TEXT:
        raise CaseRuleBroken("too_long")
    return text


async def _case_consent(session: AsyncSession, case: Case) -> None:
    """No case data without the person's valid consent to case management."""
    if case.person_id is None:
        raise CaseAccessDenied("no person")
    await require_consent(session, case.person_id, Purpose.CASE_MANAGEMENT)


def _advance(case: Case, to: str) -> None:
    """Move the status forward (new → assessment → plan → active), never back."""
    order = CASE_STATUSES.index
    if case.status != "closed" and order(to) > order(case.status):
        case.status = to


# ---- writing ---------------------------------------------------------------------------------


async def take_case(session: AsyncSession, staff: Staff, case_id: int, now: datetime) -> Case:
    """An advisor takes an unassigned case on; its counselling period starts if it had none."""
    case = await case_for_staff(session, staff, case_id, write=False)
    if case.advisor_id is None:
        case.advisor_id = staff.person_id
    if case.period_start is None:
        case.period_start = now.date()
        case.period_end = _years_later(case.period_start, PERIOD_YEARS)
    await audited(session, staff, "case.take", case.number, now)
    return case


async def set_need(
    session: AsyncSession,
    cipher: CaseCipher,
    staff: Staff,
    case_id: int,
    area: str,
    status: str,
    note: str | None,
    now: datetime,
) -> NeedAssessment:
    """One area of the needs assessment (first consultation)."""
    if area not in NEED_AREAS:
        raise CaseRuleBroken("area")
    if status not in NEED_STATUSES:
        raise CaseRuleBroken("status")
    case = await _open_for_writing(session, staff, case_id)
    need = await session.scalar(
        select(NeedAssessment).where(NeedAssessment.case_id == case.id, NeedAssessment.area == area)
    )
    if need is None:
        need = NeedAssessment(case_id=case.id, area=area)
        session.add(need)
    need.status, need.note, need.updated_at = status, cipher.encrypt(_clean(note, required=False)), now
    _advance(case, "assessment")
    await audited(session, staff, "need.write", case.number, now, detail=area)
    return need


async def add_goal(
    session: AsyncSession,
    cipher: CaseCipher,
    staff: Staff,
    case_id: int,
    *,
    area: str,
    goal: str,
    steps: str | None,
    due_on: date | None,
    now: datetime,
) -> Goal:
    """A concrete goal of the integration plan."""
    if area not in NEED_AREAS:
        raise CaseRuleBroken("area")
    case = await _open_for_writing(session, staff, case_id)
    item = Goal(
        case_id=case.id,
        area=area,
        goal=cipher.encrypt(_clean(goal, required=True)),
        steps=cipher.encrypt(_clean(steps, required=False)),
        due_on=due_on,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    _advance(case, "plan")
    await audited(session, staff, "goal.add", case.number, now, detail=area)
    return item


async def update_goal(
    session: AsyncSession,
    cipher: CaseCipher,
    staff: Staff,
    goal_id: int,
    *,
    now: datetime,
    goal: str | None = None,
    steps: str | None = None,
    due_on: date | None = None,
    status: str | None = None,
) -> Goal:
    """Change a goal's text, steps, due date or status (open, in_progress, reached, dropped)."""
    item = await session.get(Goal, goal_id)
    if item is None:
        raise CaseAccessDenied("goal")
    case = await _open_for_writing(session, staff, item.case_id)
    if goal is not None:
        item.goal = cipher.encrypt(_clean(goal, required=True))
    if steps is not None:
        item.steps = cipher.encrypt(_clean(steps, required=False))
    if due_on is not None:
        item.due_on = due_on
    if status is not None:
        if status not in GOAL_STATUSES:
            raise CaseRuleBroken("status")
        item.status = status
    item.updated_at = now
    await audited(session, staff, "goal.update", case.number, now, detail=f"goal {item.id}")
    return item


async def add_review(
    session: AsyncSession,
    cipher: CaseCipher,
    staff: Staff,
    case_id: int,
    *,
    held_on: date,
    summary: str,
    next_review_on: date | None,
    now: datetime,
) -> Review:
    """A review of the plan; the next is due in 3 months unless another date is agreed."""
    case = await _open_for_writing(session, staff, case_id)
    next_review = next_review_on or held_on + REVIEW_EVERY
    if next_review <= held_on:
        raise CaseRuleBroken("date")
    review = Review(
        case_id=case.id,
        held_on=held_on,
        summary=cipher.encrypt(_clean(summary, required=True)),
        next_review_on=next_review,
        created_by=staff.person_id,
        created_at=now,
    )
    session.add(review)
    await session.flush()
    _advance(case, "active")
    await audited(session, staff, "review.add", case.number, now)
    return review


async def add_note(
    session: AsyncSession,
    cipher: CaseCipher,
    staff: Staff,
    case_id: int,
    text: str,
    now: datetime,
    appointment_id: int | None = None,
) -> CaseNote:
    """A consultation note, optionally on one of the case's appointments."""
    case = await _open_for_writing(session, staff, case_id)
    if appointment_id is not None:
        appointment = await session.get(Appointment, appointment_id)
        if appointment is None or appointment.case_id != case.id:
            raise CaseAccessDenied("appointment")
    note = CaseNote(
        case_id=case.id,
        appointment_id=appointment_id,
        author_id=staff.person_id,
        created_at=now,
        text=cipher.encrypt(_clean(text, required=True)),
    )
    session.add(note)
    await session.flush()
    await audited(session, staff, "note.add", case.number, now)
    return note


async def record_consent_in_person(
    session: AsyncSession, staff: Staff, case_id: int, purpose: str, language: str, now: datetime
) -> Consent:
    """The advisor records a consent the person gave in the consultation (current text version)."""
    case = await case_for_staff(session, staff, case_id, write=True)
    if case.person_id is None:
        raise CaseAccessDenied("no person")
    given = await give_consent(
        session, case.person_id, purpose, language, now, how="in_person", recorded_by=staff.person_id
    )
    await audited(session, staff, "consent.record", case.number, now, detail=purpose)
    return given


async def extend_period(
    session: AsyncSession, cipher: CaseCipher, staff: Staff, case_id: int, reason: str, now: datetime
) -> Case:
    """Extend the counselling period once, from three to four years, with a reason."""
    case = await _open_for_writing(session, staff, case_id)
    if case.extension_reason is not None:
        raise CaseRuleBroken("extended")
    start = case.period_start or case.opened_at.date()
    case.period_start = start
    case.period_end = _years_later(start, EXTENDED_YEARS)
    case.extension_reason = cipher.encrypt(_clean(reason, required=True))
    await audited(session, staff, "case.extend", case.number, now)
    return case


async def close_case(session: AsyncSession, staff: Staff, case_id: int, now: datetime) -> Case:
    """Close the advisor's case (retention counts from now)."""
    case = await case_for_staff(session, staff, case_id, write=True)
    case.status, case.closed_at = "closed", now
    await audited(session, staff, "case.close", case.number, now)
    return case


async def reopen_case(session: AsyncSession, staff: Staff, case_id: int, now: datetime) -> Case:
    """Reopen a closed case of the advisor's."""
    case = await case_for_staff(session, staff, case_id, write=True)
    if case.status != "closed":
        raise CaseRuleBroken("status")
    has_goals = await session.scalar(select(func.count(Goal.id)).where(Goal.case_id == case.id))
    case.status, case.closed_at = ("active" if has_goals else "new"), None
    await audited(session, staff, "case.reopen", case.number, now)
    return case


# ---- referrals and digests -------------------------------------------------------------------


async def request_referral(
    session: AsyncSession, person_id: int, offer_id: int, first_name: str | None, now: datetime
) -> tuple[Referral, Case]:
    """The person asks for help with an offer; with their consent to share, it becomes a referral
    on their case (opened if they have none)."""
    given = await require_consent(session, person_id, Purpose.REFERRAL)
    case = await case_for(session, person_id, first_name, now)
    existing = await session.scalar(
        select(Referral).where(
            Referral.case_id == case.id, Referral.offer_id == offer_id, Referral.status == "open"
        )
    )
    if existing is not None:
        return existing, case
    referral = Referral(
        case_id=case.id, offer_id=offer_id, consent_id=given.id, status="open", created_at=now
    )
    session.add(referral)
    await session.flush()
    return referral, case


async def advisors_to_tell(session: AsyncSession, case: Case) -> Sequence[Person]:
    """The case's advisor, or every advisor while nobody has taken the case on."""
    if case.advisor_id is not None:
        advisor = await session.get(Person, case.advisor_id)
        return [advisor] if advisor is not None and advisor.role == Role.ADVISOR else []
    return (await session.scalars(select(Person).where(Person.role == Role.ADVISOR))).all()
