"""/hours for advisors: weekly consultation hours, absences, languages and place, changed by
buttons and typed answers (the bot waits for the answer persistently, see ``storage.pending``; the
answers are read in ``handlers.advisor_answers``)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons, staff
from handlers.advisor import (
    ADVISORS,
    AGENDA_MAX_ENTRIES,
    advisors_button,
    agenda_entry,
    rebook_keyboard,
    translator_for,
)
from handlers.advisor_cancel import person_cancellation_text
from handlers.appointment_texts import tell
from handlers.buttons import Answer, Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.domain_errors import domain_error_text
from handlers.keyboards import in_rows
from handlers.replies import show
from locales import SUPPORTED_LANGUAGES, Html, Translator
from storage import advisors, pending
from storage.appointment_views import AppointmentView, load_view
from storage.db import session_scope
from storage.errors import DomainError
from storage.models import Absence, Appointment, Case

WEEKDAY = one_of(tuple(str(day) for day in range(7)))

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


def weekday_name(t: Translator, weekday: int) -> str:
    """'Monday' … 'Sunday' (0 … 6) in the reader's language."""
    return t.weekday(weekday)


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


async def show_hours(update: Update, context: BotContext, note: str | None = None) -> None:
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


async def hours(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/hours: weekly hours, upcoming absences, languages and place, with buttons to change them."""
    await show_hours(update, context)


def _back_to_hours(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.pgettext("advisor", "« Back"), callback_data=HOURS.encode())]


async def choose_weekday(update: Update, context: BotContext, _fields: Fields) -> None:
    """Which weekday's hours to change."""
    t = context.t
    day_buttons = [
        InlineKeyboardButton(weekday_name(t, weekday), callback_data=HOURS_DAY.encode(weekday))
        for weekday in range(7)
    ]
    rows = in_rows(day_buttons, 2)
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


async def ask_weekday_hours(update: Update, context: BotContext, fields: Fields) -> None:
    """Ask for one weekday's hours."""
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


async def ask_absence(update: Update, context: BotContext, _fields: Fields) -> None:
    """Ask for the days of an absence."""
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


async def ask_languages(update: Update, context: BotContext, _fields: Fields) -> None:
    """Ask for the languages the advisor consults in."""
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


async def ask_place(update: Update, context: BotContext, _fields: Fields) -> None:
    """Ask where the consultations take place."""
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


async def choose_absence_to_remove(update: Update, context: BotContext, _fields: Fields) -> None:
    """The upcoming absences as buttons: tapping one removes it."""
    assert context.viewer is not None
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


async def remove_absence(update: Update, context: BotContext, fields: Fields) -> Answer:
    """Remove the tapped absence (if it still exists) and show the hours again."""
    assert context.viewer is not None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        removed = await advisors.remove_absence(session, context.viewer.person_id, fields[0])
    note = (
        t.pgettext("advisor", "✅ The absence was removed.")
        if removed
        else t.pgettext("advisor", "This absence does not exist (any more).")
    )
    await show_hours(update, context, note)
    return Answer(note)


# ---- an absence over booked appointments -------------------------------------------------------


async def ask_about_booked(
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


async def confirm_absence(update: Update, context: BotContext, fields: Fields) -> Answer:
    """The advisor's answer about the booked appointments: add the absence, cancelling them (each
    person is told) or keeping them."""
    assert context.viewer is not None
    t = context.t
    runtime = context.runtime
    now = context.now()
    first, last = (datetime.strptime(str(code), "%Y%m%d").date() for code in fields[:2])
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
        raise Refused(domain_error_text(t, refused))
    await show_hours(update, context, await _absence_note(context, views, kept))
    return Answer(t.pgettext("advisor", "✅ Saved."))


async def _absence_note(context: BotContext, cancelled: Sequence[AppointmentView], kept: int) -> str:
    """Tell each person whose appointment the absence cancelled; say to the advisor what happened."""
    t = context.t
    runtime = context.runtime
    untold = 0
    for view in cancelled:
        person_t = translator_for(runtime, view.person) if view.person is not None else t
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


def handlers() -> list[BaseHandler]:
    """The command and buttons of /hours, for advisors only."""
    return [
        buttons.command("hours", hours, roles=ADVISORS, refusal=staff.refusal),
        advisors_button(HOURS, hours),
        advisors_button(HOURS_DAYS, choose_weekday),
        advisors_button(HOURS_DAY, ask_weekday_hours),
        advisors_button(ABSENCE_ADD, ask_absence),
        advisors_button(ABSENCE_LIST, choose_absence_to_remove),
        advisors_button(ABSENCE_REMOVE, remove_absence),
        advisors_button(ABSENCE_CONFIRM, confirm_absence),
        advisors_button(LANGUAGES, ask_languages),
        advisors_button(PLACE, ask_place),
    ]
