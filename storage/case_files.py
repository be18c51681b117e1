"""Reading the case store: an advisor's case list, a whole case file (decrypted, audited) and the
flags advisors act on (plan missing, review due, counselling period ending). The rules of who may
read what live in ``storage.cases``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.cases import REVIEW_EVERY, CaseAccessDenied, Staff, audited, case_for_staff
from storage.consent import Purpose, valid_consent
from storage.crypto import CaseCipher
from storage.models import (
    NEED_AREAS,
    Appointment,
    AppointmentStatus,
    Case,
    CaseNote,
    Consent,
    Goal,
    NeedAssessment,
    Referral,
    Review,
    Role,
)

PERIOD_WARNING = timedelta(days=60)


@dataclass(frozen=True)
class CaseRow:
    """One line of an advisor's case list."""

    id: int
    number: str
    first_name: str | None
    status: str
    advisor_id: int | None
    flags: frozenset[str]


@dataclass
class CaseFile:
    """Everything on one case, decrypted, for the staff member allowed to read it."""

    case: Case
    needs: list[tuple[NeedAssessment, str | None]] = field(default_factory=list)
    goals: list[tuple[Goal, str, str | None]] = field(default_factory=list)
    reviews: list[tuple[Review, str]] = field(default_factory=list)
    notes: list[tuple[CaseNote, str]] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    extension_reason: str | None = None
    flags: frozenset[str] = frozenset()
    consent_missing: bool = False  # then no case texts were read


async def case_flags(session: AsyncSession, case: Case, today: date) -> frozenset[str]:
    """plan_missing: two attended consultations and still no goal; review_due: a plan whose review
    is due (every 3 months); period_ending: the counselling period ends within ``PERIOD_WARNING``."""
    if case.status == "closed":
        return frozenset()
    flags = set()
    attended = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.case_id == case.id, Appointment.status == AppointmentStatus.ATTENDED
        )
    )
    first_goal = await session.scalar(select(func.min(Goal.created_at)).where(Goal.case_id == case.id))
    if (attended or 0) >= 2 and first_goal is None:
        flags.add("plan_missing")
    if first_goal is not None:
        last = await session.scalar(
            select(Review).where(Review.case_id == case.id).order_by(Review.held_on.desc()).limit(1)
        )
        due = (
            (last.next_review_on or last.held_on + REVIEW_EVERY) if last else first_goal.date() + REVIEW_EVERY
        )
        if due <= today:
            flags.add("review_due")
    if case.period_end is not None and case.period_end - today <= PERIOD_WARNING:
        flags.add("period_ending")
    return frozenset(flags)


async def _read_texts(session: AsyncSession, cipher: CaseCipher, case: Case, file: CaseFile) -> None:
    """Decrypt the case's needs, goals, reviews and notes into the file."""
    for need in await session.scalars(select(NeedAssessment).where(NeedAssessment.case_id == case.id)):
        file.needs.append((need, cipher.decrypt(need.note)))
    file.needs.sort(key=lambda pair: NEED_AREAS.index(pair[0].area))
    for goal in await session.scalars(select(Goal).where(Goal.case_id == case.id).order_by(Goal.id)):
        file.goals.append((goal, cipher.decrypt(goal.goal) or "", cipher.decrypt(goal.steps)))
    for review in await session.scalars(
        select(Review).where(Review.case_id == case.id).order_by(Review.held_on)
    ):
        file.reviews.append((review, cipher.decrypt(review.summary) or ""))
    for note in await session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
    ):
        file.notes.append((note, cipher.decrypt(note.text) or ""))


async def list_cases(
    session: AsyncSession, staff: Staff, today: date, now: datetime, show: str = "mine"
) -> list[CaseRow]:
    """Cases the advisor may see: ``mine``, ``unassigned``, or those flagged ``plan_missing``,
    ``review_due`` or ``period_ending`` among their own."""
    if staff.role != Role.ADVISOR:
        raise CaseAccessDenied("only advisors read cases")
    query = select(Case).where(Case.anonymised_at.is_(None)).order_by(Case.opened_at)
    query = (
        query.where(Case.advisor_id.is_(None))
        if show == "unassigned"
        else query.where(Case.advisor_id == staff.person_id)
    )
    rows = []
    for case in (await session.scalars(query)).all():
        flags = await case_flags(session, case, today)
        if show in ("plan_missing", "review_due", "period_ending") and show not in flags:
            continue
        rows.append(CaseRow(case.id, case.number, case.first_name, case.status, case.advisor_id, flags))
    await audited(session, staff, "cases.list", None, now, detail=show)
    return rows


async def open_case(
    session: AsyncSession, cipher: CaseCipher, staff: Staff, case_id: int, today: date, now: datetime
) -> CaseFile:
    """The whole case file, decrypted; the read is audited."""
    case = await case_for_staff(session, staff, case_id, write=False)
    file = CaseFile(case=case, flags=await case_flags(session, case, today))
    consented = (
        case.person_id is not None
        and await valid_consent(session, case.person_id, Purpose.CASE_MANAGEMENT) is not None
    )
    file.consent_missing = not consented
    if consented:  # without a valid consent to case management, case texts are not read at all
        await _read_texts(session, cipher, case, file)
    file.appointments = list(
        await session.scalars(
            select(Appointment).where(Appointment.case_id == case.id).order_by(Appointment.starts_at)
        )
    )
    if case.person_id is not None:
        file.consents = list(
            await session.scalars(
                select(Consent).where(Consent.person_id == case.person_id).order_by(Consent.given_at)
            )
        )
    file.referrals = list(await session.scalars(select(Referral).where(Referral.case_id == case.id)))
    file.extension_reason = cipher.decrypt(case.extension_reason) if consented else None
    await audited(session, staff, "case.read", case.number, now)
    return file


async def weekly_flags(session: AsyncSession, advisor_id: int, today: date) -> dict[str, list[str]]:
    """Case numbers per flag for one advisor's digest (numbers only, no contents)."""
    found: dict[str, list[str]] = {"plan_missing": [], "review_due": [], "period_ending": []}
    cases = await session.scalars(
        select(Case).where(Case.advisor_id == advisor_id, Case.anonymised_at.is_(None)).order_by(Case.number)
    )
    for case in cases.all():
        for flag in await case_flags(session, case, today):
            found[flag].append(case.number)
    return found
