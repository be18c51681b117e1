"""The advisor's side of consultations: /agenda, "did they come?" after each appointment, and a
morning digest. Cancelling from the agenda is ``handlers.advisor_cancel``; /hours (weekly hours,
absences, languages, place) is ``handlers.advisor_hours``.

Advisors see only what they need to act: time, type, first name, case number, topic and language.
Whatever a button claims, ``storage.booking`` re-checks that the appointment is the advisor's own.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, JobQueue

from handlers import buttons, staff
from handlers.appointment_texts import kind_label, staff_language_text, tell, topic_label, when_text
from handlers.booking import START
from handlers.buttons import Answer, Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext, Runtime
from handlers.keyboards import button_label, in_rows
from handlers.replies import show
from locales import Html, Translator
from storage import advisors, booking
from storage.appointment_views import AppointmentView, agenda_digests, load_view
from storage.booking import BookingRefused
from storage.db import session_scope
from storage.models import Appointment, AppointmentStatus, Case, Person, Role

log = logging.getLogger(__name__)

AGENDA_DAYS = 7  # today and the next seven days
AGENDA_MAX_ENTRIES = 20  # keeps the message well below Telegram's 4096 characters
DIGEST_JOB = "advisor-agenda-digest"
ADVISORS = (Role.ADVISOR,)

AGENDA = Action("agenda")
CANCEL = Action("vcancel", (integer(),))
OUTCOME = Action("outc", (integer(), one_of(("yes", "no"))))


# ---- shared pieces -----------------------------------------------------------------------------


def advisors_button(action: Action, step: buttons.Step) -> BaseHandler:
    """An advisors' button: everyone else hears the staff refusal; storage re-checks anyway."""
    return buttons.button(action, step, roles=ADVISORS, refusal=staff.refusal)


def translator_for(runtime: Runtime, person: Person) -> Translator:
    return Translator(person.language or runtime.default_language, runtime.zone)


def local_day_bounds(runtime: Runtime, day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day begins and the next one begins (DST-safe)."""
    start = datetime.combine(day, time(0), runtime.zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), runtime.zone).astimezone(UTC)
    return start, end


def not_changed_text(t: Translator, reason: str) -> str:
    """Why an advisor's action on an appointment did nothing."""
    if reason == "not_yours":
        return t.pgettext("advisor", "This is not one of your appointments. Nothing was changed.")
    return t.pgettext("advisor", "This appointment is no longer open. Nothing was changed.")


def rebook_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("menu", "📅 Book a consultation"), callback_data=START.encode("-")
                )
            ]
        ]
    )


# ---- the agenda --------------------------------------------------------------------------------


def agenda_entry(t: Translator, appointment: Appointment, case: Case) -> str:
    """One appointment as its advisor sees it: time, type, first name, case number, topic, language."""
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    entry = t.pgettext(
        "advisor",
        "🕘 <b>{times}</b> {kind}\n👤 {name} ({case})\n💬 {topic} · 🗣 {language}",
        times=t.time_range(appointment.starts_at, appointment.ends_at),
        kind=Html(kind_label(t, appointment.kind, minutes)),
        name=case.first_name or "–",
        case=case.number,
        topic=Html(topic_label(t, appointment.topic)),
        language=staff_language_text(t, appointment.language, appointment.interpreter),
    )
    if appointment.status == AppointmentStatus.ATTENDED:
        return t.pgettext("advisor", "{entry}\n✅ attended", entry=Html(entry))
    if appointment.status == AppointmentStatus.NO_SHOW:
        return t.pgettext("advisor", "{entry}\n🚫 did not come", entry=Html(entry))
    return entry


def agenda_text(t: Translator, rows: Sequence[tuple[Appointment, Case]], today: date) -> str:
    """The agenda grouped by day, today first; at most :data:`AGENDA_MAX_ENTRIES` entries."""
    if not rows:
        return t.npgettext(
            "advisor",
            "<b>Your agenda</b>\n\nYou have no appointments today or in the next {n} day.",
            "<b>Your agenda</b>\n\nYou have no appointments today or in the next {n} days.",
            AGENDA_DAYS,
        )
    parts = [t.pgettext("advisor", "<b>Your agenda</b>")]
    shown_day: date | None = None
    for appointment, case in rows[:AGENDA_MAX_ENTRIES]:
        day = appointment.starts_at.astimezone(t.zone).date()
        if day != shown_day:
            shown_day = day
            heading = (
                t.pgettext("advisor", "<b>Today, {date}</b>", date=t.date(day))
                if day == today
                else f"<b>{html.escape(t.date(day))}</b>"
            )
            parts.append(f"\n{heading}")
        parts.append(agenda_entry(t, appointment, case))
    hidden = len(rows) - AGENDA_MAX_ENTRIES
    if hidden > 0:
        parts.append(
            t.npgettext(
                "advisor",
                "… and {n} more appointment. The desk shows them all.",
                "… and {n} more appointments. The desk shows them all.",
                hidden,
            )
        )
    return "\n".join(parts)


async def agenda_between(
    context: BotContext, advisor_id: int, first: date, last: date
) -> list[tuple[Appointment, Case]]:
    """The advisor's appointments from the start of local day ``first`` to the end of ``last``."""
    runtime = context.runtime
    start, _ = local_day_bounds(runtime, first)
    _, end = local_day_bounds(runtime, last)
    async with session_scope(runtime.sessions) as session:
        return await booking.agenda(session, advisor_id, start, end)


def agenda_keyboard(
    t: Translator, rows: Sequence[tuple[Appointment, Case]], now: datetime
) -> InlineKeyboardMarkup | None:
    """A button per open appointment still to come: tapping it offers to cancel it."""
    cancel_buttons = [
        InlineKeyboardButton(
            button_label(
                f"✖ {t.day(appointment.starts_at.astimezone(t.zone).date(), 'MEd')} "
                f"{t.time(appointment.starts_at)} · {case.first_name or case.number}"
            ),
            callback_data=CANCEL.encode(appointment.id),
        )
        for appointment, case in rows[:AGENDA_MAX_ENTRIES]
        if appointment.status == AppointmentStatus.BOOKED and appointment.ends_at > now
    ]
    if not cancel_buttons:
        return None
    return InlineKeyboardMarkup(in_rows(cancel_buttons, 2))


async def agenda(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/agenda: today's and the coming week's appointments, with a way to cancel one."""
    assert context.viewer is not None
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    rows = await agenda_between(context, context.viewer.person_id, today, today + timedelta(days=AGENDA_DAYS))
    text = agenda_text(t, rows, today)
    keyboard = agenda_keyboard(t, rows, context.now())
    if keyboard is not None:
        text += "\n\n" + t.pgettext("advisor", "To cancel an appointment, tap it below.")
    await show(update, context, text, keyboard)


# ---- after the appointment: did they come? -----------------------------------------------------


async def send_outcome_prompt(context: BotContext, view: AppointmentView) -> bool:
    """Ask the advisor, in their language, whether the person came; ``False`` if not delivered."""
    advisor = view.advisor
    if advisor is None:
        return False
    runtime = context.runtime
    t = translator_for(runtime, advisor)
    appointment = view.appointment
    text = t.pgettext(
        "advisor",
        "❓ <b>Did {name} ({case}) come?</b>\n{when}\n{kind}\n\nPlease record how it went.",
        name=view.case.first_name or "–",
        case=view.case.number,
        when=Html(when_text(t, appointment.starts_at, appointment.ends_at)),
        kind=Html(kind_label(t, appointment.kind, view.minutes)),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("advisor", "✅ Attended"), callback_data=OUTCOME.encode(appointment.id, "yes")
                ),
                InlineKeyboardButton(
                    t.pgettext("advisor", "🚫 Did not come"),
                    callback_data=OUTCOME.encode(appointment.id, "no"),
                ),
            ]
        ]
    )
    return await tell(context.bot, runtime.sessions, advisor, text, context.now(), reply_markup=keyboard)


def no_show_text(t: Translator, view: AppointmentView) -> str:
    """The friendly message to a person who missed their appointment."""
    return t.pgettext(
        "advisor",
        "Your consultation on {when} did not take place. If you would still like advice, you are welcome "
        "to book a new time.",
        when=Html(when_text(t, view.appointment.starts_at, view.appointment.ends_at)),
    )


async def record_outcome(update: Update, context: BotContext, fields: Fields) -> Answer:
    """ "Attended" or "did not come": recorded; a person who did not come gets a friendly note."""
    assert context.viewer is not None
    appointment_id, attended = fields[0], fields[1] == "yes"
    t = context.t
    runtime = context.runtime
    refused: str | None = None
    newly_missed = False
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, context.viewer.telegram_id)
            before = (await booking.advisor_appointment(session, appointment_id, advisor.id)).status
            await booking.record_outcome(session, context.now(), appointment_id, advisor.id, attended)
            newly_missed = not attended and before != AppointmentStatus.NO_SHOW
        except BookingRefused as error:
            refused = error.reason
    if refused == "not_yours":
        raise Refused(not_changed_text(t, refused))
    if refused is not None:
        raise Refused(
            t.pgettext(
                "advisor", "This appointment has not begun yet or was cancelled: nothing was recorded."
            )
        )
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    assert view is not None
    told = False
    if newly_missed and view.person is not None:
        person_t = translator_for(runtime, view.person)
        told = await tell(
            context.bot,
            runtime.sessions,
            view.person,
            no_show_text(person_t, view),
            context.now(),
            reply_markup=rebook_keyboard(person_t),
        )
    values = {
        "name": view.case.first_name or "–",
        "case": view.case.number,
        "when": Html(when_text(t, view.appointment.starts_at, view.appointment.ends_at)),
    }
    if attended:
        text = t.pgettext(
            "advisor", "✅ Recorded: {name} ({case}) came to the consultation on {when}.", **values
        )
    elif told:
        text = t.pgettext(
            "advisor",
            "🚫 Recorded: {name} ({case}) did not come on {when}. They got a friendly message with a "
            "button to book again.",
            **values,
        )
    else:
        text = t.pgettext("advisor", "🚫 Recorded: {name} ({case}) did not come on {when}.", **values)
    await show(update, context, text, None)
    return Answer(t.pgettext("advisor", "Recorded."))


# ---- the morning digest ------------------------------------------------------------------------


async def send_agenda_digests(context: BotContext) -> None:
    """Daily job: each advisor with appointments today gets today's list, in their language."""
    runtime = context.runtime
    today = context.now().astimezone(runtime.zone).date()
    start, end = local_day_bounds(runtime, today)
    async with session_scope(runtime.sessions) as session:
        days = await agenda_digests(session, start, end)
    sent = 0
    for advisor, rows in days:
        t = translator_for(runtime, advisor)
        text = "\n\n".join(
            [
                t.npgettext(
                    "advisor",
                    "☀ <b>Good morning!</b> You have {n} appointment today, {date}:",
                    "☀ <b>Good morning!</b> You have {n} appointments today, {date}:",
                    len(rows),
                    date=t.date(today),
                ),
                *(agenda_entry(t, appointment, case) for appointment, case in rows[:AGENDA_MAX_ENTRIES]),
            ]
        )
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t.pgettext("advisor", "🗓 Open my agenda"), callback_data=AGENDA.encode())]]
        )
        sent += await tell(context.bot, runtime.sessions, advisor, text, context.now(), reply_markup=keyboard)
    log.info("agenda digest sent to %s advisors", sent)


def schedule_jobs(job_queue: JobQueue, runtime: Runtime, digest_time: str) -> None:
    """The morning digest every day at ``digest_time`` (``"HH:MM"``) local time, with a fixed id so a
    restart never doubles it (PTB counts ``days`` from 0 = Sunday; all seven are meant here)."""
    job_queue.run_daily(
        send_agenda_digests,
        time=time.fromisoformat(digest_time).replace(tzinfo=runtime.zone),
        days=tuple(range(7)),
        name=DIGEST_JOB,
        job_kwargs={"id": DIGEST_JOB, "replace_existing": True},
    )


def handlers() -> list[BaseHandler]:
    """Commands and buttons for advisors only; everyone else is refused in their language."""
    return [
        buttons.command("agenda", agenda, roles=ADVISORS, refusal=staff.refusal),
        advisors_button(AGENDA, agenda),
        advisors_button(OUTCOME, record_outcome),
    ]
