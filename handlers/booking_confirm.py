"""Confirming a booking: the last step re-checks everything in ``storage``; then the details, a
calendar file and a notice to the advisor. Also the waiting list, when no time is free."""

from __future__ import annotations

from datetime import datetime

from telegram import InputFile, Update
from telegram.ext import BaseHandler

from handlers import buttons, calendar_files
from handlers.appointment_texts import advisor_notice, summary_lines, tell, when_text
from handlers.booking import (
    CONFIRM,
    WAIT,
    begin,
    consent_missing_text,
    interpreter_note,
    language_of,
    offer_about,
    refusal_text,
    show_limit,
    show_times,
    to_my_appointments,
)
from handlers.buttons import Answer, Fields
from handlers.context import BotContext
from handlers.days import moment_of
from handlers.durations import duration_text
from handlers.keyboards import back_to_menu
from handlers.replies import show
from locales import Translator
from storage import booking, consent, people, waiting_list
from storage.appointment_views import load_view
from storage.booking import BookingRefused
from storage.consent import Purpose
from storage.db import session_scope
from storage.reminders import BEFORE


async def confirm(update: Update, context: BotContext, fields: Fields) -> Answer | None:
    """Book. Success: the details, a calendar file, and a notice to the advisor. Otherwise the
    person is told why, on the screen that lets them go on."""
    viewer = context.viewer
    assert viewer is not None and update.effective_chat is not None
    topic, choice, minute, advisor_id, about = fields
    starts_at = moment_of(minute)
    t = context.t
    runtime = context.runtime
    language, interpreter = language_of(choice, viewer.language)
    refused: str | None = None
    appointment_id = None
    async with session_scope(runtime.sessions) as session:
        person = await people.person_by_telegram_id(session, viewer.telegram_id)
        assert person is not None
        try:
            appointment = await booking.book(
                session,
                runtime.policy,
                context.now(),
                person=person,
                advisor_id=advisor_id,
                starts_at=starts_at,
                topic=topic,
                language=language,
                interpreter=interpreter,
                first_name=(update.effective_user.first_name or "")[:64] if update.effective_user else None,
                offer_id=offer_about(about),
            )
            appointment_id = appointment.id
        except booking.AlreadyBooked:
            refused = "already_booked"
        except BookingRefused as error:
            refused = error.reason
        except consent.ConsentMissing:
            refused = "consent"
    if refused == "consent":
        await begin(update, context, about, note=consent_missing_text(t))
        return None
    if refused == "already_booked":
        return Answer(t.pgettext("booking", "You have already booked this appointment."), alert=True)
    if refused == "limit":
        await show_limit(update, context)
        return None
    if refused is not None:
        day = starts_at.astimezone(runtime.zone).date()
        note = refusal_text(t, refused, runtime.policy.max_open)
        await show_times(update, context, topic, choice, day, about, note=note)
        return None
    assert appointment_id is not None
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    assert view is not None
    await show(
        update,
        context,
        "\n".join(
            [
                t.pgettext("booking", "✅ <b>Your appointment is booked.</b>"),
                "",
                summary_lines(t, view),
                *(
                    ["", interpreter_note(t, language)]
                    if view.appointment.interpreter and not interpreter
                    else []
                ),
                "",
                t.pgettext(
                    "booking",
                    "Your case number: {number}. We will remind you {first} and {second} before. "
                    "You can move or cancel it under “My appointments”.",
                    number=view.case.number,
                    first=duration_text(t, BEFORE["before_24h"]),
                    second=duration_text(t, BEFORE["before_2h"]),
                ),
            ]
        ),
        to_my_appointments(t),
    )
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(calendar_files.appointment_ics(t, view), filename="wegweiser-appointment.ics"),
        caption=t.pgettext(
            "booking",
            "📎 Add your appointment on {when} to your phone's calendar.",
            when=when_text(t, view.appointment.starts_at, view.appointment.ends_at),
        ),
    )
    await notify_advisor(context, appointment_id, "booked")
    return Answer(t.pgettext("booking", "Booked."))


async def notify_advisor(
    context: BotContext, appointment_id: int, event: str, *, previous: tuple[datetime, datetime] | None = None
) -> None:
    """Tell the appointment's advisor what happened, in the advisor's language (for a move, with
    the ``previous`` start and end)."""
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    if view is None or view.advisor is None:
        return
    t = Translator(view.advisor.language or runtime.default_language, runtime.zone)
    text = advisor_notice(t, view, event, previous=previous)
    await tell(context.bot, runtime.sessions, view.advisor, text, context.now())


async def join_waiting_list(update: Update, context: BotContext, fields: Fields) -> None:
    """Onto the waiting list (with the booking consent; without it, the person is asked first)."""
    viewer = context.viewer
    assert viewer is not None
    topic, choice = fields
    language, interpreter = language_of(choice, viewer.language)
    async with session_scope(context.runtime.sessions) as session:
        agreed = await consent.valid_consent(session, viewer.person_id, Purpose.BOOKING)
        if agreed is not None:
            await waiting_list.join_waiting_list(
                session, viewer.person_id, topic, language, interpreter, context.now()
            )
    t = context.t
    if agreed is None:
        await begin(update, context, "-", note=consent_missing_text(t))
        return
    await show(
        update,
        context,
        t.pgettext(
            "booking",
            "You are on the waiting list. As soon as a time becomes free, we will write to you here. "
            "The first person on the list gets the first free time.",
        ),
        back_to_menu(t),
    )


def handlers() -> list[BaseHandler]:
    return [buttons.button(CONFIRM, confirm), buttons.button(WAIT, join_waiting_list)]
