"""The advisor's side of consultations: /agenda (with cancelling for a reason), "did they come?"
after each appointment, /hours (weekly hours, absences, languages, place) and a morning digest.

Advisors see only what they need to act: time, type, first name, case number, topic and language.
Whatever a button claims, ``storage.booking`` re-checks that the appointment is the advisor's own.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, JobQueue

from handlers import staff
from handlers.appointment_texts import kind_label, staff_language_text, tell, topic_label, when_text
from handlers.booking import START
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext, Runtime
from handlers.domain_errors import domain_error_text
from handlers.keyboards import button_label, in_rows
from handlers.replies import show
from handlers.typed_answers import AnswerHandler
from locales import SUPPORTED_LANGUAGES, Html, Translator
from storage import advisors, booking, pending
from storage.appointment_views import AppointmentView, agenda_digests, load_view
from storage.booking import ADVISOR_CANCEL_REASONS, BookingRefused
from storage.db import session_scope
from storage.errors import DomainError
from storage.models import Absence, Appointment, AppointmentStatus, Case, Person, Role
from storage.pending import Waiting

log = logging.getLogger(__name__)

AGENDA_DAYS = 7  # today and the next seven days
AGENDA_MAX_ENTRIES = 20  # keeps the message well below Telegram's 4096 characters
DIGEST_JOB = "advisor-agenda-digest"
WEEKDAY = one_of(tuple(str(day) for day in range(7)))

AGENDA = Action("agenda")
CANCEL = Action("vcancel", (integer(),))
CANCEL_FOR = Action("vcanr", (integer(), one_of(ADVISOR_CANCEL_REASONS)))
OUTCOME = Action("outc", (integer(), one_of(("yes", "no"))))
HOURS = Action("vhours")
HOURS_DAYS = Action("vhdays")
HOURS_DAY = Action("vhday", (WEEKDAY,))
ABSENCE_ADD = Action("vabsadd")
ABSENCE_LIST = Action("vabsls")
ABSENCE_REMOVE = Action("vabsrm", (integer(),))
ABSENCE_CONFIRM = Action("vabsok", (r"20[0-9]{6}", r"20[0-9]{6}", one_of(("cancel", "keep"))))
LANGUAGES = Action("vlangs")
PLACE = Action("vplace")

WAITING_HOURS = "advisor_hours"
WAITING_ABSENCE = "advisor_absence"
WAITING_LANGUAGES = "advisor_languages"
WAITING_PLACE = "advisor_place"


Callback = Callable[[Update, BotContext], Awaitable[None]]


# ---- shared pieces -----------------------------------------------------------------------------


async def _refuse(update: Update, context: BotContext) -> None:
    """Everyone but advisors hears the staff refusal, in their language."""
    text = staff.refusal(context.t)
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


def advisors_only(callback: Callback) -> Callback:
    """Everyone but advisors is refused, whatever they typed or tapped; storage re-checks anyway."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        if context.viewer is None or context.viewer.role != Role.ADVISOR:
            await _refuse(update, context)
            return
        await callback(update, context)

    return guarded


def _translator_for(runtime: Runtime, person: Person) -> Translator:
    return Translator(person.language or runtime.default_language, runtime.zone)


def _local_day_bounds(runtime: Runtime, day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day begins and the next one begins (DST-safe)."""
    start = datetime.combine(day, time(0), runtime.zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), runtime.zone).astimezone(UTC)
    return start, end


def weekday_name(t: Translator, weekday: int) -> str:
    """'Monday' … 'Sunday' (0 … 6) in the reader's language."""
    return t.weekday(weekday)


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


async def _agenda_between(
    context: BotContext, advisor_id: int, first: date, last: date
) -> list[tuple[Appointment, Case]]:
    """The advisor's appointments from the start of local day ``first`` to the end of ``last``."""
    runtime = context.runtime
    start, _ = _local_day_bounds(runtime, first)
    _, end = _local_day_bounds(runtime, last)
    async with session_scope(runtime.sessions) as session:
        return await booking.agenda(session, advisor_id, start, end)


def agenda_keyboard(
    t: Translator, rows: Sequence[tuple[Appointment, Case]], now: datetime
) -> InlineKeyboardMarkup | None:
    """A button per open appointment still to come: tapping it offers to cancel it."""
    buttons = [
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
    if not buttons:
        return None
    return InlineKeyboardMarkup(in_rows(buttons, 2))


async def agenda(update: Update, context: BotContext) -> None:
    """/agenda: today's and the coming week's appointments, with a way to cancel one."""
    assert context.viewer is not None
    if update.callback_query:
        await update.callback_query.answer()
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    rows = await _agenda_between(
        context, context.viewer.person_id, today, today + timedelta(days=AGENDA_DAYS)
    )
    text = agenda_text(t, rows, today)
    keyboard = agenda_keyboard(t, rows, context.now())
    if keyboard is not None:
        text += "\n\n" + t.pgettext("advisor", "To cancel an appointment, tap it below.")
    await show(update, context, text, keyboard)


def _back_to_agenda(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.pgettext("advisor", "« Back to the agenda"), callback_data=AGENDA.encode())


def _not_changed_text(t: Translator, reason: str) -> str:
    """Why an advisor's action on an appointment did nothing."""
    if reason == "not_yours":
        return t.pgettext("advisor", "This is not one of your appointments. Nothing was changed.")
    return t.pgettext("advisor", "This appointment is no longer open. Nothing was changed.")


def cancel_reason_label(t: Translator, reason: str) -> str:
    labels = {
        "advisor_ill": t.pgettext("advisor", "🤒 I am ill"),
        "emergency": t.pgettext("advisor", "🚨 Emergency"),
        "other": t.pgettext("advisor", "Another reason"),
    }
    return labels[reason]


async def _own_view(context: BotContext, appointment_id: int) -> AppointmentView | str:
    """The advisor's own appointment, or the refusal reason (never someone else's details)."""
    assert context.viewer is not None
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, context.viewer.telegram_id)
            await booking.advisor_appointment(session, appointment_id, advisor.id)
        except BookingRefused as refused:
            return refused.reason
        view = await load_view(session, appointment_id, runtime.municipality)
    return view if view is not None else "not_yours"


async def ask_cancel_reason(update: Update, context: BotContext) -> None:
    """Cancelling, step 1: which appointment, and why."""
    query = update.callback_query
    fields = CANCEL.decode(query.data if query else None)
    if query is None or fields is None:
        return
    t = context.t
    view = await _own_view(context, int(fields[0]))
    if isinstance(view, str):
        await query.answer(_not_changed_text(t, view), show_alert=True)
        return
    appointment = view.appointment
    if appointment.status != AppointmentStatus.BOOKED or appointment.ends_at <= context.now():
        await query.answer(_not_changed_text(t, "not_booked"), show_alert=True)
        return
    await query.answer()
    rows = [
        [
            InlineKeyboardButton(
                cancel_reason_label(t, reason), callback_data=CANCEL_FOR.encode(appointment.id, reason)
            )
        ]
        for reason in ADVISOR_CANCEL_REASONS
    ]
    await show(
        update,
        context,
        t.pgettext(
            "advisor",
            "Cancel the appointment with {name} ({case}) on {when}?\n\n"
            "{name} will be told in their language and can book a new time. Why are you cancelling?",
            name=view.case.first_name or "–",
            case=view.case.number,
            when=Html(when_text(t, appointment.starts_at, appointment.ends_at)),
        ),
        InlineKeyboardMarkup([*rows, [_back_to_agenda(t)]]),
    )


def person_cancellation_text(t: Translator, view: AppointmentView, reason: str) -> str:
    """What the person is told, in their own language, when their advisor cancels."""
    when = Html(when_text(t, view.appointment.starts_at, view.appointment.ends_at))
    if reason == "advisor_ill":
        return t.pgettext(
            "advisor",
            "❗ <b>Your appointment has been cancelled</b>\n{when}\n\n"
            "Your advisor is ill, so the consultation cannot take place. We are sorry! "
            "Please book a new time.",
            when=when,
        )
    if reason == "emergency":
        return t.pgettext(
            "advisor",
            "❗ <b>Your appointment has been cancelled</b>\n{when}\n\n"
            "Because of an urgent matter, your advisor cannot keep the appointment. We are sorry! "
            "Please book a new time.",
            when=when,
        )
    return t.pgettext(
        "advisor",
        "❗ <b>Your appointment has been cancelled</b>\n{when}\n\n"
        "Your advisor cannot keep the appointment. We are sorry! Please book a new time.",
        when=when,
    )


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


async def cancel(update: Update, context: BotContext) -> None:
    """Cancelling, step 2: cancel with the reason, tell the person in their language."""
    query = update.callback_query
    fields = CANCEL_FOR.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    appointment_id, reason = int(fields[0]), fields[1]
    t = context.t
    runtime = context.runtime
    refused: str | None = None
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, context.viewer.telegram_id)
            await booking.cancel_by_advisor(session, context.now(), appointment_id, advisor.id, reason)
        except BookingRefused as error:
            refused = error.reason
    if refused is not None:
        await query.answer(_not_changed_text(t, refused), show_alert=True)
        return
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    assert view is not None
    told = False
    if view.person is not None:
        person_t = _translator_for(runtime, view.person)
        told = await tell(
            context.bot,
            runtime.sessions,
            view.person,
            person_cancellation_text(person_t, view, reason),
            context.now(),
            reply_markup=rebook_keyboard(person_t),
        )
    log.info("appointment %s cancelled by its advisor", appointment_id)
    await query.answer(t.pgettext("advisor", "Cancelled."))
    values = {"name": view.case.first_name or "–", "case": view.case.number}
    result = (
        t.pgettext("advisor", "✅ Cancelled. {name} ({case}) has been told.", **values)
        if told
        else t.pgettext(
            "advisor",
            "✅ Cancelled. {name} ({case}) could not be reached on Telegram: please tell them another way.",
            **values,
        )
    )
    hint = t.pgettext(
        "advisor", "If you will be away, add an absence with /hours so that nobody books this time again."
    )
    await show(update, context, f"{result}\n\n{hint}", InlineKeyboardMarkup([[_back_to_agenda(t)]]))


# ---- after the appointment: did they come? -----------------------------------------------------


async def send_outcome_prompt(context: BotContext, view: AppointmentView) -> bool:
    """Ask the advisor, in their language, whether the person came; ``False`` if not delivered."""
    advisor = view.advisor
    if advisor is None:
        return False
    runtime = context.runtime
    t = _translator_for(runtime, advisor)
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


async def record_outcome(update: Update, context: BotContext) -> None:
    """ "Attended" or "did not come": recorded; a person who did not come gets a friendly note."""
    query = update.callback_query
    fields = OUTCOME.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    appointment_id, attended = int(fields[0]), fields[1] == "yes"
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
        await query.answer(_not_changed_text(t, refused), show_alert=True)
        return
    if refused is not None:
        await query.answer(
            t.pgettext(
                "advisor",
                "This appointment has not begun yet or was cancelled: nothing was recorded.",
            ),
            show_alert=True,
        )
        return
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    assert view is not None
    told = False
    if newly_missed and view.person is not None:
        person_t = _translator_for(runtime, view.person)
        told = await tell(
            context.bot,
            runtime.sessions,
            view.person,
            no_show_text(person_t, view),
            context.now(),
            reply_markup=rebook_keyboard(person_t),
        )
    await query.answer(t.pgettext("advisor", "Recorded."))
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


# ---- the morning digest ------------------------------------------------------------------------


async def send_agenda_digests(context: BotContext) -> None:
    """Daily job: each advisor with appointments today gets today's list, in their language."""
    runtime = context.runtime
    today = context.now().astimezone(runtime.zone).date()
    start, end = _local_day_bounds(runtime, today)
    async with session_scope(runtime.sessions) as session:
        days = await agenda_digests(session, start, end)
    sent = 0
    for advisor, rows in days:
        t = _translator_for(runtime, advisor)
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


# ---- consultation hours, absences, languages, place --------------------------------------------


def hours_text(
    t: Translator,
    weekly: dict[int, list[tuple[str, str]]],
    absences: Sequence[Absence],
    languages: Sequence[str],
    place: str | None,
    municipality: str,
) -> str:
    """The advisor's settings at a glance."""
    none = Html(t.pgettext("advisor", "no consultations"))
    lines = [t.pgettext("advisor", "<b>Your consultation hours</b>")]
    for weekday in range(7):
        ranges = ", ".join(t.time_range(start, end) for start, end in weekly.get(weekday, []))
        lines.append(
            t.pgettext(
                "advisor", "{weekday}: {hours}", weekday=weekday_name(t, weekday), hours=ranges or none
            )
        )
    lines += ["", t.pgettext("advisor", "<b>Absences</b>")]
    if absences:
        lines += [f"• {html.escape(absence_label(t, absence))}" for absence in absences]
    else:
        lines.append(t.pgettext("advisor", "No absences planned."))
    lines.append("")
    lines.append(
        t.pgettext(
            "advisor",
            "<b>Languages:</b> {languages}",
            languages=", ".join(t.language_name(code) for code in languages)
            or Html(t.pgettext("advisor", "not set yet")),
        )
    )
    lines.append(
        t.pgettext("advisor", "<b>Place:</b> {place}", place=place)
        if place
        else t.pgettext(
            "advisor", "<b>Place:</b> {place} (default)", place=advisors.default_place(municipality)
        )
    )
    return "\n".join(lines)


def absence_label(t: Translator, absence: Absence) -> str:
    if absence.first_day == absence.last_day:
        return t.date(absence.first_day, "medium")
    return t.date_range(absence.first_day, absence.last_day)


def hours_keyboard(t: Translator, has_absences: bool) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                t.pgettext("advisor", "🕘 Change a weekday"), callback_data=HOURS_DAYS.encode()
            )
        ],
        [InlineKeyboardButton(t.pgettext("advisor", "🏖 Add an absence"), callback_data=ABSENCE_ADD.encode())],
    ]
    if has_absences:
        rows.append(
            [
                InlineKeyboardButton(
                    t.pgettext("advisor", "🗑 Remove an absence"), callback_data=ABSENCE_LIST.encode()
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(t.pgettext("advisor", "🗣 Languages"), callback_data=LANGUAGES.encode()),
            InlineKeyboardButton(t.pgettext("advisor", "📍 Place"), callback_data=PLACE.encode()),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def _show_hours(update: Update, context: BotContext, note: str | None = None) -> None:
    assert context.viewer is not None
    runtime = context.runtime
    t = context.t
    today = context.now().astimezone(runtime.zone).date()
    advisor_id = context.viewer.person_id
    async with session_scope(runtime.sessions) as session:
        weekly = await advisors.weekly_hours(session, advisor_id)
        upcoming = await advisors.absences(session, advisor_id, today)
        advisor_profile = await advisors.profile(session, advisor_id)
        languages, place = list(advisor_profile.languages), advisor_profile.place
    text = hours_text(t, weekly, upcoming, languages, place, runtime.municipality)
    if note:
        text = f"{note}\n\n{text}"
    await show(update, context, text, hours_keyboard(t, bool(upcoming)))


async def hours(update: Update, context: BotContext) -> None:
    """/hours: weekly hours, upcoming absences, languages and place, with buttons to change them."""
    if update.callback_query:
        await update.callback_query.answer()
    await _show_hours(update, context)


def _back_to_hours(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.pgettext("advisor", "« Back"), callback_data=HOURS.encode())]


async def choose_weekday(update: Update, context: BotContext) -> None:
    """Which weekday's hours to change."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    t = context.t
    buttons = [
        InlineKeyboardButton(weekday_name(t, weekday), callback_data=HOURS_DAY.encode(weekday))
        for weekday in range(7)
    ]
    rows = in_rows(buttons, 2)
    await show(
        update,
        context,
        t.pgettext("advisor", "Which day would you like to change?"),
        InlineKeyboardMarkup([*rows, _back_to_hours(t)]),
    )


async def _ask(update: Update, context: BotContext, kind: str, payload: dict, question: str) -> None:
    """Wait (persistently) for the advisor's typed answer to ``question``."""
    assert context.viewer is not None
    async with session_scope(context.runtime.sessions) as session:
        await pending.wait_for_text(session, context.viewer.person_id, kind, payload, context.now())
    await show(update, context, question, None)


async def ask_weekday_hours(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = HOURS_DAY.decode(query.data if query else None)
    if query is None or fields is None:
        return
    await query.answer()
    t = context.t
    weekday = int(fields[0])
    await _ask(
        update,
        context,
        WAITING_HOURS,
        {"weekday": weekday},
        t.pgettext(
            "advisor",
            "Please send your consultation hours for {weekday}, like this: 09:00-12:00, 14:00-16:00\n"
            "Send a single - for no consultations on that day. /cancel stops without a change.",
            weekday=weekday_name(t, weekday),
        ),
    )


async def ask_absence(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await _ask(
        update,
        context,
        WAITING_ABSENCE,
        {},
        context.t.pgettext(
            "advisor",
            "Please send the first and the last day of your absence, like this: 2026-03-10 2026-03-14\n"
            "For a single day, send one date. /cancel stops without a change.",
        ),
    )


async def ask_languages(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await _ask(
        update,
        context,
        WAITING_LANGUAGES,
        {},
        context.t.pgettext(
            "advisor",
            "Please send the languages you consult in, as codes separated by commas, like this: "
            "de, en, ar\nKnown codes: {codes}. /cancel stops without a change.",
            codes=", ".join(SUPPORTED_LANGUAGES),
        ),
    )


async def ask_place(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await _ask(
        update,
        context,
        WAITING_PLACE,
        {},
        context.t.pgettext(
            "advisor",
            "Please send where your consultations take place, e.g. Rathaus {municipality}, Zimmer 12.\n"
            "Send a single - for the default place. /cancel stops without a change.",
            municipality=context.runtime.municipality,
        ),
    )


async def _save_hours(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    await advisors.set_weekly_hours(session, advisor_id, int(payload["weekday"]), text)


async def _save_absence(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    first, last = advisors.parse_absence(text)
    await advisors.add_absence(session, advisor_id, first, last, zone=zone, now=now)


async def _save_languages(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    await advisors.set_languages(session, advisor_id, text)


async def _save_place(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    await advisors.set_place(session, advisor_id, text)


SAVERS = {
    WAITING_HOURS: _save_hours,
    WAITING_ABSENCE: _save_absence,
    WAITING_LANGUAGES: _save_languages,
    WAITING_PLACE: _save_place,
}


async def receive_answer(update: Update, context: BotContext, waiting: Waiting) -> None:
    """A typed answer to one of /hours' questions: save it, or explain and keep waiting. An absence
    over booked appointments is not saved yet: the advisor is asked what becomes of them."""
    message = update.effective_message
    viewer = context.viewer
    if message is None or message.text is None or viewer is None:
        return
    t = context.t
    runtime = context.runtime
    refused: DomainError | None = None
    booked: list[tuple[Appointment, Case]] = []
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, viewer.telegram_id)
            await SAVERS[waiting.kind](
                session, advisor.id, waiting.payload, message.text, context.now(), runtime.zone
            )
            await pending.stop_waiting(session, viewer.person_id)
        except DomainError as error:
            refused = error
            if error.reason in ("not_yours", "absence_booked"):
                await pending.stop_waiting(session, viewer.person_id)
            booked = list(error.details.get("appointments", ()))
    if refused is not None and refused.reason == "not_yours":
        await _refuse(update, context)
    elif refused is not None and refused.reason == "absence_booked":
        await _ask_about_booked(update, context, message.text, booked)
    elif refused is not None:
        await message.reply_text(
            t.pgettext(
                "advisor",
                "Not saved. {reason}\nPlease try again, or /cancel.",
                reason=Html(domain_error_text(t, refused)),
            )
        )
    else:
        await _show_hours(update, context, t.pgettext("advisor", "✅ Saved."))


async def _ask_about_booked(
    update: Update, context: BotContext, text: str, booked: Sequence[tuple[Appointment, Case]]
) -> None:
    """The booked appointments in a new absence, and whether to cancel or keep them."""
    t = context.t
    first, last = (day.strftime("%Y%m%d") for day in advisors.parse_absence(text))
    question = t.npgettext(
        "advisor",
        "You have {n} booked appointment in this absence:",
        "You have {n} booked appointments in this absence:",
        len(booked),
    )
    entries = [agenda_entry(t, appointment, case) for appointment, case in booked[:AGENDA_MAX_ENTRIES]]
    ask = t.npgettext(
        "advisor",
        "Should it be cancelled? The person is told in their language and can book a new time.",
        "Should they be cancelled? The people are told in their language and can book a new time.",
        len(booked),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("advisor", "✖ Add the absence and cancel"),
                    callback_data=ABSENCE_CONFIRM.encode(first, last, "cancel"),
                )
            ],
            [
                InlineKeyboardButton(
                    t.pgettext("advisor", "Add the absence, keep the appointments"),
                    callback_data=ABSENCE_CONFIRM.encode(first, last, "keep"),
                )
            ],
            _back_to_hours(t),
        ]
    )
    await show(update, context, "\n\n".join([question, *entries, ask]), keyboard)


async def confirm_absence(update: Update, context: BotContext) -> None:
    """The advisor's answer about the booked appointments: add the absence, cancelling them (each
    person is told) or keeping them."""
    query = update.callback_query
    fields = ABSENCE_CONFIRM.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    t = context.t
    runtime = context.runtime
    now = context.now()
    first, last = (datetime.strptime(code, "%Y%m%d").date() for code in fields[:2])
    cancel_them = fields[2] == "cancel"
    refused: DomainError | None = None
    views: list[AppointmentView] = []
    kept = 0
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, context.viewer.telegram_id)
            added = await advisors.add_absence(
                session,
                advisor.id,
                first,
                last,
                zone=runtime.zone,
                now=now,
                cancel_appointments=cancel_them,
            )
        except DomainError as error:
            refused = error
        else:
            for appointment, _case in added.cancelled:
                view = await load_view(session, appointment.id, runtime.municipality)
                assert view is not None
                views.append(view)
            if not cancel_them:
                kept = len(await advisors.booked_during(session, advisor.id, first, last, runtime.zone, now))
    if refused is not None:
        await query.answer(domain_error_text(t, refused), show_alert=True)
        return
    await query.answer(t.pgettext("advisor", "✅ Saved."))
    await _show_hours(update, context, await _absence_note(context, views, kept))


async def _absence_note(context: BotContext, cancelled: Sequence[AppointmentView], kept: int) -> str:
    """Tell each person whose appointment the absence cancelled; say to the advisor what happened."""
    t = context.t
    runtime = context.runtime
    untold = 0
    for view in cancelled:
        person_t = _translator_for(runtime, view.person) if view.person is not None else t
        untold += not await tell(
            context.bot,
            runtime.sessions,
            view.person,
            person_cancellation_text(person_t, view, advisors.ABSENCE_CANCEL_REASON),
            context.now(),
            reply_markup=rebook_keyboard(person_t),
        )
    lines = [t.pgettext("advisor", "✅ Saved.")]
    if len(cancelled) > untold:
        lines.append(
            t.npgettext(
                "advisor",
                "{n} appointment was cancelled and the person was told.",
                "{n} appointments were cancelled and the people were told.",
                len(cancelled) - untold,
            )
        )
    if untold:
        lines.append(
            t.npgettext(
                "advisor",
                "{n} appointment was cancelled, but the person could not be reached on Telegram: "
                "please tell them another way.",
                "{n} appointments were cancelled, but the people could not be reached on Telegram: "
                "please tell them another way.",
                untold,
            )
        )
    if kept:
        lines.append(
            t.npgettext(
                "advisor",
                "You have {n} booked appointment in this time. It is not cancelled automatically: "
                "cancel it in /agenda if needed.",
                "You have {n} booked appointments in this time. They are not cancelled automatically: "
                "cancel them in /agenda if needed.",
                kept,
            )
        )
    return "\n".join(lines)


async def choose_absence_to_remove(update: Update, context: BotContext) -> None:
    """The upcoming absences as buttons: tapping one removes it."""
    query = update.callback_query
    if query is None or context.viewer is None:
        return
    await query.answer()
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        upcoming = await advisors.absences(session, context.viewer.person_id, today)
    rows = [
        [
            InlineKeyboardButton(
                "🗑 " + absence_label(t, absence), callback_data=ABSENCE_REMOVE.encode(absence.id)
            )
        ]
        for absence in upcoming[:20]
    ]
    await show(
        update,
        context,
        t.pgettext("advisor", "Which absence would you like to remove?"),
        InlineKeyboardMarkup([*rows, _back_to_hours(t)]),
    )


async def remove_absence(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = ABSENCE_REMOVE.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        removed = await advisors.remove_absence(session, context.viewer.person_id, int(fields[0]))
    note = (
        t.pgettext("advisor", "✅ The absence was removed.")
        if removed
        else t.pgettext("advisor", "This absence does not exist (any more).")
    )
    await query.answer(note)
    await _show_hours(update, context, note)


TYPED_ANSWERS: dict[str, AnswerHandler] = {kind: receive_answer for kind in SAVERS}


def handlers() -> list[BaseHandler]:
    """Commands and buttons for advisors only; everyone else is refused in their language."""
    buttons: list[tuple[Action, Callback]] = [
        (AGENDA, agenda),
        (CANCEL, ask_cancel_reason),
        (CANCEL_FOR, cancel),
        (OUTCOME, record_outcome),
        (HOURS, hours),
        (HOURS_DAYS, choose_weekday),
        (HOURS_DAY, ask_weekday_hours),
        (ABSENCE_ADD, ask_absence),
        (ABSENCE_LIST, choose_absence_to_remove),
        (ABSENCE_REMOVE, remove_absence),
        (ABSENCE_CONFIRM, confirm_absence),
        (LANGUAGES, ask_languages),
        (PLACE, ask_place),
    ]
    return [
        CommandHandler("agenda", advisors_only(agenda)),
        CommandHandler("hours", advisors_only(hours)),
        *(
            CallbackQueryHandler(advisors_only(callback), pattern=action.matches)
            for action, callback in buttons
        ),
    ]
