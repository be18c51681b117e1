"""Moving an appointment to another time: days with free times of the same length, the times of a
day, then the move (the new time is held before the old one is released)."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import summary_lines
from handlers.appointments import DETAIL, MOVE, MOVE_DAY, MOVE_OK, offer_freed_times, own_view
from handlers.booking import refusal_text
from handlers.booking_confirm import notify_advisor
from handlers.buttons import Answer, Fields, Refused
from handlers.context import BotContext
from handlers.days import another_day_label, day_code, day_label, day_of, free_days, minute_of, moment_of
from handlers.keyboards import back_to_menu, in_rows
from handlers.replies import show
from storage import booking
from storage.appointment_views import AppointmentView, load_view
from storage.booking import BookingRefused
from storage.db import session_scope
from storage.slots import Slot, free_slots


async def move_days(update: Update, context: BotContext, fields: Fields) -> None:
    """Moving, step 1: days with free times of the same length."""
    view = await own_view(context, fields[0])
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
    day_buttons = [
        InlineKeyboardButton(
            day_label(t, day), callback_data=MOVE_DAY.encode(view.appointment.id, day_code(day))
        )
        for day in days
    ]
    await show(
        update,
        context,
        t.pgettext("appointments", "To which day would you like to move it?"),
        InlineKeyboardMarkup([*in_rows(day_buttons, 3), back]),
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


async def move_times(update: Update, context: BotContext, fields: Fields) -> None:
    """Moving, step 2: free times on the chosen day."""
    view = await own_view(context, fields[0])
    day = day_of(fields[1])
    t = context.t
    slots = await _free_for_move(context, view, day) if day else []
    time_buttons = [
        InlineKeyboardButton(
            t.time(slot.starts_at),
            callback_data=MOVE_OK.encode(view.appointment.id, minute_of(slot.starts_at), slot.advisor_id),
        )
        for slot in slots
    ]
    rows = in_rows(time_buttons, 4)
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


async def move(update: Update, context: BotContext, fields: Fields) -> Answer:
    """Moving, step 3: the new time is held before the old one is released."""
    viewer = context.viewer
    assert viewer is not None
    appointment_id, minute, advisor_id = fields[0], fields[1], fields[2]
    t = context.t
    refused = None
    previous = None
    async with session_scope(context.runtime.sessions) as session:
        try:
            before = await booking.person_appointment(session, appointment_id, viewer.person_id)
            previous = (before.starts_at, before.ends_at)
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
        raise Refused(refusal_text(t, refused, 0))
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
    await notify_advisor(context, appointment_id, "moved", previous=previous)
    await offer_freed_times(context)
    return Answer(t.pgettext("appointments", "Moved."))


def handlers() -> list[BaseHandler]:
    return [
        buttons.button(MOVE, move_days),
        buttons.button(MOVE_DAY, move_times),
        buttons.button(MOVE_OK, move),
    ]
