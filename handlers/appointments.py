"""My appointments: see what is booked, cancel (with an optional reason) or move to another time."""

from __future__ import annotations

import html
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.appointment_texts import summary_lines, tell, when_text
from handlers.booking import (
    CHOOSE_TIME,
    START,
    another_day_label,
    day_code,
    day_label,
    day_of,
    free_days,
    minute_of,
    moment_of,
    notify_advisor,
    refusal_text,
)
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.durations import duration_text
from handlers.keyboards import MENU, back_to_menu, in_rows
from handlers.replies import show
from locales import Translator
from storage import booking, waiting_list
from storage.appointment_views import AppointmentView, load_view
from storage.booking import CANCEL_REASONS, BookingRefused
from storage.db import session_scope
from storage.models import Person
from storage.slots import Slot, free_slots

LIST = Action("mine")
DETAIL = Action("appt", (integer(),))
CANCEL = Action("pcan", (integer(),))
CANCEL_FOR = Action("pcand", (integer(), one_of(CANCEL_REASONS)))
MOVE = Action("pmove", (integer(),))
MOVE_DAY = Action("pmday", (integer(), r"20[0-9]{6}"))
MOVE_TO = Action("pmto", (integer(), integer(10)))
MOVE_OK = Action("pmok", (integer(), integer(10), integer()))
CONFIRMED = Action("pcome", (integer(),))


def reason_label(t: Translator, reason: str) -> str:
    labels = {
        "ill": t.pgettext("appointments", "I am ill"),
        "no_time": t.pgettext("appointments", "I have no time then"),
        "solved": t.pgettext("appointments", "My question is solved"),
        "other": t.pgettext("appointments", "Another reason"),
        "none": t.pgettext("appointments", "Cancel without a reason"),
    }
    return labels[reason]


async def show_list(update: Update, context: BotContext) -> None:
    """/appointments, or the menu button: the person's open appointments."""
    if update.callback_query:
        await update.callback_query.answer()
    viewer = context.viewer
    if viewer is None:
        return
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        upcoming = await booking.open_appointments(session, viewer.person_id, context.now())
    if not upcoming:
        await show(
            update,
            context,
            t.pgettext("appointments", "You have no open appointments."),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("menu", "📅 Book a consultation"), callback_data=START.encode("-")
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home")
                        )
                    ],
                ]
            ),
        )
        return
    rows = [
        [
            InlineKeyboardButton(
                html.unescape(
                    when_text(t, appointment.starts_at, appointment.ends_at)
                ),  # buttons are plain text
                callback_data=DETAIL.encode(appointment.id),
            )
        ]
        for appointment in upcoming
    ]
    rows.append([InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))])
    await show(
        update,
        context,
        t.npgettext(
            "appointments",
            "<b>Your appointment</b> ({n}). Tap it to move or cancel it.",
            "<b>Your appointments</b> ({n}). Tap one to move or cancel it.",
            len(upcoming),
        ),
        InlineKeyboardMarkup(rows),
    )


async def _own_view(update: Update, context: BotContext, appointment_id: int) -> AppointmentView | None:
    """The person's own appointment, or a clear refusal (another person's id, or unknown)."""
    viewer = context.viewer
    assert viewer is not None
    async with session_scope(context.runtime.sessions) as session:
        view = await load_view(session, appointment_id, context.runtime.municipality)
    if view is None or view.appointment.person_id != viewer.person_id:
        if update.callback_query:
            await update.callback_query.answer(
                context.t.pgettext("booking", "This appointment is not yours."), show_alert=True
            )
        return None
    return view


async def show_detail(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = DETAIL.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    view = await _own_view(update, context, int(fields[0]))
    if view is None:
        return
    await query.answer()
    t = context.t
    appointment = view.appointment
    if appointment.status != "booked" or appointment.starts_at <= context.now():
        await show(
            update,
            context,
            refusal_text(t, "not_booked", 0),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("appointments", "« My appointments"), callback_data=LIST.encode()
                        )
                    ]
                ]
            ),
        )
        return
    await show(
        update,
        context,
        summary_lines(t, view)
        + "\n"
        + t.pgettext("appointments", "Case number: {number}", number=view.case.number),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.pgettext("appointments", "↔ Move"), callback_data=MOVE.encode(appointment.id)
                    ),
                    InlineKeyboardButton(
                        t.pgettext("appointments", "✖ Cancel"), callback_data=CANCEL.encode(appointment.id)
                    ),
                ],
                [
                    InlineKeyboardButton(
                        t.pgettext("appointments", "« My appointments"), callback_data=LIST.encode()
                    )
                ],
            ]
        ),
    )


async def ask_reason(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = CANCEL.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    view = await _own_view(update, context, int(fields[0]))
    if view is None:
        return
    await query.answer()
    t = context.t
    rows = [
        [
            InlineKeyboardButton(
                reason_label(t, reason), callback_data=CANCEL_FOR.encode(view.appointment.id, reason)
            )
        ]
        for reason in CANCEL_REASONS
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t.pgettext("appointments", "↩ Keep the appointment"),
                callback_data=DETAIL.encode(view.appointment.id),
            )
        ]
    )
    await show(
        update,
        context,
        t.pgettext(
            "appointments",
            "Do you really want to cancel your appointment on {when}? If you like, tell us why.",
            when=when_text(t, view.appointment.starts_at, view.appointment.ends_at),
        ),
        InlineKeyboardMarkup(rows),
    )


async def cancel(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = CANCEL_FOR.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    appointment_id, reason = int(fields[0]), fields[1]
    t = context.t
    refused = None
    async with session_scope(context.runtime.sessions) as session:
        try:
            await booking.cancel_by_person(
                session, context.runtime.policy, context.now(), appointment_id, viewer.person_id, reason
            )
        except BookingRefused as error:
            refused = error.reason
    if refused is not None:
        await query.answer(refusal_text(t, refused, 0)[:200], show_alert=True)
        return
    await query.answer()
    await show(
        update,
        context,
        t.pgettext("appointments", "Your appointment is cancelled. Thank you for letting us know."),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.pgettext("menu", "📅 Book a consultation"), callback_data=START.encode("-")
                    )
                ],
                [InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))],
            ]
        ),
    )
    await notify_advisor(context, appointment_id, "cancelled")
    await offer_freed_times(context)


async def offer_freed_times(context: BotContext) -> None:
    """Tell the first people on the waiting list about times that became free."""
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        offered = await waiting_list.offer_freed_time(session, runtime.policy, context.now())
        recipients = [(entry, slot, await session.get(Person, entry.person_id)) for entry, slot in offered]
    for entry, slot, person in recipients:
        if person is None:
            continue
        t = Translator(person.language or runtime.default_language, runtime.zone)
        choice = "i" if entry.interpreter else (entry.language or t.language)
        await tell(
            context.bot,
            runtime.sessions,
            person,
            t.pgettext(
                "appointments",
                "Good news: a consultation time has become free: {when}. It is kept for you for "
                "{period}. Would you like to book it?",
                when=when_text(t, slot.starts_at, slot.ends_at),
                period=duration_text(t, runtime.policy.waiting_offer_valid),
            ),
            context.now(),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("appointments", "📅 Book this time"),
                            callback_data=CHOOSE_TIME.encode(
                                entry.topic, choice, minute_of(slot.starts_at), "-"
                            ),
                        )
                    ]
                ]
            ),
        )


async def move_days(update: Update, context: BotContext) -> None:
    """Moving, step 1: days with free times of the same length."""
    query = update.callback_query
    fields = MOVE.decode(query.data if query else None)
    if query is None or fields is None:
        return
    view = await _own_view(update, context, int(fields[0]))
    if view is None:
        return
    await query.answer()
    t = context.t
    slots = await _free_for_move(context, view)
    days = free_days(slots, context.runtime.zone)
    back = [
        InlineKeyboardButton(
            t.pgettext("appointments", "↩ Keep the appointment"),
            callback_data=DETAIL.encode(view.appointment.id),
        )
    ]
    if not days:
        await show(
            update,
            context,
            t.pgettext("appointments", "Sorry, there is no other free time in the next weeks."),
            InlineKeyboardMarkup([back]),
        )
        return
    buttons = [
        InlineKeyboardButton(
            day_label(t, day), callback_data=MOVE_DAY.encode(view.appointment.id, day_code(day))
        )
        for day in days
    ]
    await show(
        update,
        context,
        t.pgettext("appointments", "To which day would you like to move it?"),
        InlineKeyboardMarkup([*in_rows(buttons, 3), back]),
    )


async def _free_for_move(context: BotContext, view: AppointmentView, day: date | None = None) -> list[Slot]:
    appointment = view.appointment
    async with session_scope(context.runtime.sessions) as session:
        return await free_slots(
            session,
            context.runtime.policy,
            context.now(),
            appointment.person_id,
            appointment.language,
            appointment.interpreter,
            day=day,
            moving=appointment,
        )


async def move_times(update: Update, context: BotContext) -> None:
    """Moving, step 2: free times on the chosen day."""
    query = update.callback_query
    fields = MOVE_DAY.decode(query.data if query else None)
    if query is None or fields is None:
        return
    view = await _own_view(update, context, int(fields[0]))
    day = day_of(fields[1])
    if view is None:
        return
    await query.answer()
    t = context.t
    slots = await _free_for_move(context, view, day) if day else []
    buttons = [
        InlineKeyboardButton(
            t.time(slot.starts_at),
            callback_data=MOVE_OK.encode(view.appointment.id, minute_of(slot.starts_at), slot.advisor_id),
        )
        for slot in slots
    ]
    rows = in_rows(buttons, 4)
    rows.append([InlineKeyboardButton(another_day_label(t), callback_data=MOVE.encode(view.appointment.id))])
    rows.append(
        [
            InlineKeyboardButton(
                t.pgettext("appointments", "↩ Keep the appointment"),
                callback_data=DETAIL.encode(view.appointment.id),
            )
        ]
    )
    text = (
        t.pgettext(
            "appointments", "Free times on {date}. Tap one to move your appointment there:", date=t.date(day)
        )
        if slots and day
        else refusal_text(t, "taken", 0)
    )
    await show(update, context, text, InlineKeyboardMarkup(rows))


async def move(update: Update, context: BotContext) -> None:
    """Moving, step 3: the new time is held before the old one is released."""
    query = update.callback_query
    fields = MOVE_OK.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    appointment_id, minute, advisor_id = int(fields[0]), fields[1], int(fields[2])
    t = context.t
    refused = None
    async with session_scope(context.runtime.sessions) as session:
        try:
            await booking.move(
                session,
                context.runtime.policy,
                context.now(),
                appointment_id,
                viewer.person_id,
                advisor_id,
                moment_of(minute),
            )
        except BookingRefused as error:
            refused = error.reason
    if refused is not None:
        await query.answer(refusal_text(t, refused, 0)[:200], show_alert=True)
        return
    await query.answer(t.pgettext("appointments", "Moved."))
    async with session_scope(context.runtime.sessions) as session:
        view = await load_view(session, appointment_id, context.runtime.municipality)
    assert view is not None
    await show(
        update,
        context,
        t.pgettext("appointments", "✅ <b>Your appointment has been moved.</b>")
        + "\n\n"
        + summary_lines(t, view),
        back_to_menu(t),
    )
    await notify_advisor(context, appointment_id, "moved")
    await offer_freed_times(context)


async def confirm_attendance(update: Update, context: BotContext) -> None:
    """The "I will come" button of a reminder: a thank-you, nothing stored."""
    query = update.callback_query
    fields = CONFIRMED.decode(query.data if query else None)
    if query is None or fields is None:
        return
    view = await _own_view(update, context, int(fields[0]))
    if view is None:
        return
    await query.answer(context.t.pgettext("appointments", "Thank you, see you then!"))


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("appointments", show_list),
        # "menu:appointments" comes from the main menu (handlers.keyboards).
        CallbackQueryHandler(
            show_list, pattern=lambda data: LIST.matches(data) or data == "menu:appointments"
        ),
        CallbackQueryHandler(show_detail, pattern=DETAIL.matches),
        CallbackQueryHandler(ask_reason, pattern=CANCEL.matches),
        CallbackQueryHandler(cancel, pattern=CANCEL_FOR.matches),
        CallbackQueryHandler(move_days, pattern=MOVE.matches),
        CallbackQueryHandler(move_times, pattern=MOVE_DAY.matches),
        CallbackQueryHandler(move, pattern=MOVE_OK.matches),
        CallbackQueryHandler(confirm_attendance, pattern=CONFIRMED.matches),
    ]
