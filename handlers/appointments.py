"""My appointments: see what is booked, cancel (with an optional reason), "I will come" from a
reminder, and telling the waiting list about freed times. Moving is ``handlers.moving``."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import summary_lines, tell, when_text
from handlers.booking import CHOOSE_TIME, START, refusal_text
from handlers.booking_confirm import notify_advisor
from handlers.buttons import Answer, Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.days import minute_of
from handlers.durations import duration_text
from handlers.keyboards import MENU
from handlers.replies import show
from locales import Translator
from storage import booking, waiting_list
from storage.appointment_views import AppointmentView, load_view
from storage.booking import CANCEL_REASONS, BookingRefused
from storage.db import session_scope
from storage.models import Person

LIST = Action("mine")
DETAIL = Action("appt", (integer(),))
CANCEL = Action("pcan", (integer(),))
CANCEL_FOR = Action("pcand", (integer(), one_of(CANCEL_REASONS)))
MOVE = Action("pmove", (integer(),))
MOVE_DAY = Action("pmday", (integer(), r"20[0-9]{6}"))
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


def book_or_menu(t: Translator) -> InlineKeyboardMarkup:
    """Two ways on when nothing is booked (any more): book a consultation, or the main menu."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("menu", "📅 Book a consultation"), callback_data=START.encode("-")
                )
            ],
            [InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))],
        ]
    )


async def show_list(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/appointments, or the menu button: the person's open appointments."""
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        upcoming = await booking.open_appointments(session, viewer.person_id, context.now())
    if not upcoming:
        await show(
            update,
            context,
            t.pgettext("appointments", "You have no open appointments."),
            book_or_menu(t),
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


async def own_view(context: BotContext, appointment_id: int) -> AppointmentView:
    """The person's own appointment, or a clear refusal (another person's id, or unknown)."""
    viewer = context.viewer
    assert viewer is not None
    async with session_scope(context.runtime.sessions) as session:
        view = await load_view(session, appointment_id, context.runtime.municipality)
    if view is None or view.appointment.person_id != viewer.person_id:
        raise Refused(context.t.pgettext("booking", "This appointment is not yours."))
    return view


async def show_detail(update: Update, context: BotContext, fields: Fields) -> None:
    """One appointment, with "move" and "cancel"."""
    view = await own_view(context, fields[0])
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


async def ask_reason(update: Update, context: BotContext, fields: Fields) -> None:
    """Cancelling, step 1: really, and why?"""
    view = await own_view(context, fields[0])
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


async def cancel(update: Update, context: BotContext, fields: Fields) -> None:
    """Cancelling, step 2: cancelled; the advisor and the waiting list are told."""
    viewer = context.viewer
    assert viewer is not None
    appointment_id, reason = fields[0], fields[1]
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
        raise Refused(refusal_text(t, refused, 0))
    await show(
        update,
        context,
        t.pgettext("appointments", "Your appointment is cancelled. Thank you for letting us know."),
        book_or_menu(t),
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


async def confirm_attendance(update: Update, context: BotContext, fields: Fields) -> Answer:
    """The "I will come" button of a reminder: a thank-you, nothing stored."""
    await own_view(context, fields[0])
    return Answer(context.t.pgettext("appointments", "Thank you, see you then!"))


def handlers() -> list[BaseHandler]:
    return [
        buttons.command("appointments", show_list),
        buttons.button(LIST, show_list),
        buttons.button(DETAIL, show_detail),
        buttons.button(CANCEL, ask_reason),
        buttons.button(CANCEL_FOR, cancel),
        buttons.button(CONFIRMED, confirm_attendance),
    ]
