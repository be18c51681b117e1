"""Advisors cancel an appointment from their agenda, with a reason; the person is told in their
language and offered a new time."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers.advisor import (
    AGENDA,
    CANCEL,
    advisors_button,
    not_changed_text,
    rebook_keyboard,
    translator_for,
)
from handlers.appointment_texts import tell, when_text
from handlers.buttons import Answer, Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.replies import show
from locales import Html, Translator
from storage import advisors, booking
from storage.appointment_views import AppointmentView, load_view
from storage.booking import ADVISOR_CANCEL_REASONS, BookingRefused
from storage.db import session_scope
from storage.models import AppointmentStatus

log = logging.getLogger(__name__)
CANCEL_FOR = Action("vcanr", (integer(), one_of(ADVISOR_CANCEL_REASONS)))


def _back_to_agenda(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.pgettext("advisor", "« Back to the agenda"), callback_data=AGENDA.encode())


def cancel_reason_label(t: Translator, reason: str) -> str:
    labels = {
        "advisor_ill": t.pgettext("advisor", "🤒 I am ill"),
        "emergency": t.pgettext("advisor", "🚨 Emergency"),
        "other": t.pgettext("advisor", "Another reason"),
    }
    return labels[reason]


async def _own_view(context: BotContext, appointment_id: int) -> AppointmentView:
    """The advisor's own appointment, or a refusal (never someone else's details)."""
    assert context.viewer is not None
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, context.viewer.telegram_id)
            await booking.advisor_appointment(session, appointment_id, advisor.id)
        except BookingRefused as refused:
            raise Refused(not_changed_text(context.t, refused.reason)) from None
        view = await load_view(session, appointment_id, runtime.municipality)
    if view is None:
        raise Refused(not_changed_text(context.t, "not_yours"))
    return view


async def ask_cancel_reason(update: Update, context: BotContext, fields: Fields) -> None:
    """Cancelling, step 1: which appointment, and why."""
    t = context.t
    view = await _own_view(context, fields[0])
    appointment = view.appointment
    if appointment.status != AppointmentStatus.BOOKED or appointment.ends_at <= context.now():
        raise Refused(not_changed_text(t, "not_booked"))
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


async def cancel(update: Update, context: BotContext, fields: Fields) -> Answer:
    """Cancelling, step 2: cancel with the reason, tell the person in their language."""
    assert context.viewer is not None
    appointment_id, reason = fields[0], fields[1]
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
        raise Refused(not_changed_text(t, refused))
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    assert view is not None
    told = False
    if view.person is not None:
        person_t = translator_for(runtime, view.person)
        told = await tell(
            context.bot,
            runtime.sessions,
            view.person,
            person_cancellation_text(person_t, view, reason),
            context.now(),
            reply_markup=rebook_keyboard(person_t),
        )
    log.info("appointment %s cancelled by its advisor", appointment_id)
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
    return Answer(t.pgettext("advisor", "Cancelled."))


def handlers() -> list[BaseHandler]:
    return [advisors_button(CANCEL, ask_cancel_reason), advisors_button(CANCEL_FOR, cancel)]
