"""Privacy and my data: what Wegweiser stores about me, withdrawing a consent, a copy of my data,
deleting everything.

Reached by /privacy and the main menu's "Privacy and my data". A person's data only ever goes to
the chat of their own update, never to a chat named in a button. Nothing here logs personal data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.appointment_texts import tell, topic_label, when_text
from handlers.appointments import offer_freed_times
from handlers.callbacks import Action, one_of
from handlers.context import BotContext
from handlers.keyboards import MENU
from handlers.replies import show
from locales import ENDONYMS, Translator
from storage import data_export, privacy
from storage.consent import Purpose
from storage.db import session_scope
from storage.privacy import CancelledAppointment, PersonData

OVERVIEW = Action("priv")
WITHDRAW = Action("pwdraw", (one_of(tuple(Purpose)),))
EXPORT = Action("pexport")
DELETE = Action("pdelete")
DELETE_CONFIRMED = Action("pdelok")
SHOWN_APPOINTMENTS = 5
SHOWN_CONSENTS = 12  # the latest; the copy of my data holds all
JSON_FILE = "wegweiser-my-data.json"
TEXT_FILE = "wegweiser-my-data.txt"


# ---- labels ------------------------------------------------------------------------------------


def purpose_label(t: Translator, purpose: str) -> str:
    labels = {
        Purpose.BOOKING: t.pgettext("privacy", "Booking consultations"),
        Purpose.CASE_MANAGEMENT: t.pgettext("privacy", "Case record of the integration management"),
        Purpose.REMINDERS: t.pgettext("privacy", "Reminders before appointments"),
        Purpose.REFERRAL: t.pgettext("privacy", "Passing your contact on to an offer"),
    }
    return labels.get(purpose, purpose)


def withdraw_button_label(t: Translator, purpose: str) -> str:
    labels = {
        Purpose.BOOKING: t.pgettext("privacy", "✖ Withdraw consent: booking"),
        Purpose.CASE_MANAGEMENT: t.pgettext("privacy", "✖ Withdraw consent: case record"),
        Purpose.REMINDERS: t.pgettext("privacy", "✖ Withdraw consent: reminders"),
        Purpose.REFERRAL: t.pgettext("privacy", "✖ Withdraw consent: passing on"),
    }
    return labels[purpose]


def how_label(t: Translator, how: str) -> str:
    if how == "in_person":
        return t.pgettext("privacy", "in person")
    return t.pgettext("privacy", "in the chat")


def appointment_status_label(t: Translator, status: str) -> str:
    labels = {
        "booked": t.pgettext("privacy", "booked"),
        "cancelled": t.pgettext("privacy", "cancelled"),
        "attended": t.pgettext("privacy", "took place"),
        "no_show": t.pgettext("privacy", "missed"),
    }
    return labels.get(status, status)


def case_status_label(t: Translator, status: str) -> str:
    labels = {
        "new": t.pgettext("privacy", "new"),
        "assessment": t.pgettext("privacy", "needs assessment"),
        "plan": t.pgettext("privacy", "integration plan"),
        "active": t.pgettext("privacy", "active"),
        "closed": t.pgettext("privacy", "closed"),
    }
    return labels.get(status, status)


def need_area_label(t: Translator, area: str) -> str:
    labels = {
        "language": t.pgettext("privacy", "Language"),
        "work": t.pgettext("privacy", "Work and training"),
        "housing": t.pgettext("privacy", "Housing"),
        "health": t.pgettext("privacy", "Health"),
        "children": t.pgettext("privacy", "Children and school"),
        "money": t.pgettext("privacy", "Money"),
        "papers": t.pgettext("privacy", "Papers and authorities"),
        "social": t.pgettext("privacy", "Social contacts"),
        "mobility": t.pgettext("privacy", "Getting around"),
    }
    return labels[area]


def progress_label(t: Translator, status: str) -> str:
    """The status of a need or a goal."""
    labels = {
        "unknown": t.pgettext("privacy", "not yet discussed"),
        "no_need": t.pgettext("privacy", "no need"),
        "need": t.pgettext("privacy", "need"),
        "in_progress": t.pgettext("privacy", "in progress"),
        "met": t.pgettext("privacy", "met"),
        "open": t.pgettext("privacy", "open"),
        "reached": t.pgettext("privacy", "reached"),
        "dropped": t.pgettext("privacy", "dropped"),
    }
    return labels[status]


def _language_name(language: str | None) -> str:
    return ENDONYMS.get(language or "", language or "–")


# ---- what is stored ----------------------------------------------------------------------------


def overview_text(t: Translator, data: PersonData | None) -> str:
    """What is stored about the person, in plain language, with their consents and dates."""
    lines = [t.pgettext("privacy", "<b>🔒 What Wegweiser stores about you</b>"), ""]
    if data is None:
        lines.append(t.pgettext("privacy", "Wegweiser stores nothing about you."))
        return "\n".join(lines)
    lines.append(
        t.pgettext(
            "privacy",
            "• Your Telegram account and your language ({language}), since {date}.",
            language=_language_name(data.language),
            date=t.date(data.first_seen.astimezone(t.zone).date(), "long"),
        )
    )
    if data.case is not None:
        lines.append(
            t.pgettext(
                "privacy",
                "• Your case {number}, opened on {date} (status: {status}).",
                number=data.case.number,
                date=t.date(data.case.opened_at.astimezone(t.zone).date(), "long"),
                status=case_status_label(t, data.case.status),
            )
        )
        if data.case.has_first_name:
            lines.append(t.pgettext("privacy", "• The first name your advisor addresses you by."))
    if data.appointments:
        lines.append(
            t.npgettext(
                "privacy",
                "• {n} appointment: time, topic, language and whether it took place.",
                "• {n} appointments: time, topic, language and whether they took place.",
                len(data.appointments),
            )
        )
        for appointment in data.appointments[-SHOWN_APPOINTMENTS:]:
            lines.append(
                t.pgettext(
                    "privacy",
                    "   ◦ {when}: {topic} ({status})",
                    when=when_text(t, appointment.starts_at, appointment.ends_at),
                    topic=topic_label(t, appointment.topic),
                    status=appointment_status_label(t, appointment.status),
                )
            )
    if data.waiting:
        lines.append(
            t.npgettext(
                "privacy",
                "• {n} entry on the waiting list for a consultation.",
                "• {n} entries on the waiting list for a consultation.",
                len(data.waiting),
            )
        )
    if data.referrals:
        lines.append(
            t.npgettext(
                "privacy", "• {n} referral to an offer.", "• {n} referrals to offers.", data.referrals
            )
        )
    if data.has_case_texts:
        lines.append(
            t.pgettext(
                "privacy",
                "• Notes on your needs, your integration plan and your consultations. They are stored "
                "encrypted, and only the integration management can read them.",
            )
        )
    lines += ["", t.pgettext("privacy", "<b>Your consents</b>")]
    if not data.consents:
        lines.append(t.pgettext("privacy", "You have not given any consent."))
    for consent in data.consents[-SHOWN_CONSENTS:]:
        values: dict[str, object] = {
            "purpose": purpose_label(t, consent.purpose),
            "date": t.date(consent.given_at.astimezone(t.zone).date(), "long"),
            "how": how_label(t, consent.how),
            "version": consent.version,
            "language": _language_name(consent.language),
        }
        if consent.withdrawn_at is None:
            lines.append(
                t.pgettext(
                    "privacy",
                    "✅ {purpose}: given on {date} {how} (text version {version}, in {language}).",
                    **values,
                )
            )
        else:
            lines.append(
                t.pgettext(
                    "privacy",
                    "✖ {purpose}: given on {date}, withdrawn on {withdrawn}.",
                    withdrawn=t.date(consent.withdrawn_at.astimezone(t.zone).date(), "long"),
                    **values,
                )
            )
    lines += [
        "",
        t.pgettext(
            "privacy",
            "You can withdraw a consent at any time with one tap below; what was done before stays "
            "lawful. You can also get a copy of all your data, or delete everything.",
        ),
    ]
    return "\n".join(lines)


def overview_keyboard(t: Translator, data: PersonData | None) -> InlineKeyboardMarkup:
    in_force = sorted({consent.purpose for consent in data.consents_in_force} if data else set())
    rows = [
        [InlineKeyboardButton(withdraw_button_label(t, purpose), callback_data=WITHDRAW.encode(purpose))]
        for purpose in in_force
        if purpose in tuple(Purpose)
    ]
    rows += [
        [InlineKeyboardButton(t.pgettext("privacy", "📥 Send me my data"), callback_data=EXPORT.encode())],
        [InlineKeyboardButton(t.pgettext("privacy", "🗑 Delete everything"), callback_data=DELETE.encode())],
        [InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))],
    ]
    return InlineKeyboardMarkup(rows)


def back_to_privacy(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("privacy", "« Privacy and my data"), callback_data=OVERVIEW.encode()
                )
            ],
            [InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))],
        ]
    )


async def overview(update: Update, context: BotContext) -> None:
    """/privacy, the menu button, or "back": what Wegweiser stores about me."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    viewer = context.viewer
    if viewer is None:
        return
    async with session_scope(context.runtime.sessions) as session:
        data = await privacy.what_is_stored(session, viewer.person_id)
    t = context.t
    await show(update, context, overview_text(t, data), overview_keyboard(t, data))


# ---- withdrawing a consent ---------------------------------------------------------------------


def withdrawn_text(t: Translator, purpose: str) -> str:
    """What withdrawing the consent means, in a few words."""
    texts = {
        Purpose.BOOKING: t.pgettext(
            "privacy",
            "✅ You have withdrawn your consent to booking. Appointments you have already booked stay "
            "as they are; you can cancel them under “My appointments”. To book again, you will be "
            "asked for your consent again.",
        ),
        Purpose.CASE_MANAGEMENT: t.pgettext(
            "privacy",
            "✅ You have withdrawn your consent to the case record. Nothing new will be added to it. "
            "To remove what is already stored, use “Delete everything”.",
        ),
        Purpose.REMINDERS: t.pgettext(
            "privacy",
            "✅ You have withdrawn your consent to reminders. Wegweiser will not remind you of your "
            "appointments any more; the appointments themselves stay.",
        ),
        Purpose.REFERRAL: t.pgettext(
            "privacy",
            "✅ You have withdrawn your consent to passing your contact on. Nothing new will be passed "
            "on to offers.",
        ),
    }
    return texts[purpose]


async def withdraw(update: Update, context: BotContext) -> None:
    """One tap withdraws a consent, as easily as it was given."""
    query = update.callback_query
    fields = WITHDRAW.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    (purpose,) = fields
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        withdrawn = await privacy.withdraw(session, viewer.person_id, purpose, context.now())
    if not withdrawn:
        await query.answer(t.pgettext("privacy", "This consent is no longer in force."), show_alert=True)
        await overview(update, context)
        return
    await query.answer()
    await show(update, context, withdrawn_text(t, purpose), back_to_privacy(t))


# ---- a copy of my data -------------------------------------------------------------------------


def _moment(t: Translator, value: str | None) -> str:
    return t.datetime(datetime.fromisoformat(value), "medium") if value else "–"


def _day(t: Translator, value: str | None) -> str:
    return t.date(date.fromisoformat(value), "medium") if value else "–"


def _fill(template: str, **values: object) -> str:
    """A line of the plain-text file: the values go in as they are, without HTML escaping."""
    return template.format(**values)


def readable_copy(t: Translator, data: dict[str, Any]) -> str:
    """The export as a plain-text file in the person's language."""
    person = data["person"]
    lines = [
        _fill(
            t.pgettext("privacy", "Your data in Wegweiser, as of {date}"),
            date=_moment(t, data["exported_at"]),
        ),
        "",
        t.pgettext("privacy", "== Your account =="),
        _fill(t.pgettext("privacy", "Telegram account number: {value}"), value=person["telegram_id"]),
        _fill(t.pgettext("privacy", "Language: {value}"), value=_language_name(person["language"])),
        _fill(t.pgettext("privacy", "First contact: {value}"), value=_moment(t, person["first_seen"])),
        _fill(t.pgettext("privacy", "Last contact: {value}"), value=_moment(t, person["last_seen"])),
        "",
        t.pgettext("privacy", "== Your consents =="),
    ]
    if not data["consents"]:
        lines.append(t.pgettext("privacy", "You have not given any consent."))
    for consent in data["consents"]:
        lines.append(
            _fill(
                t.pgettext(
                    "privacy",
                    "{purpose}: given on {date} {how} (text version {version}, in {language}); withdrawn: "
                    "{withdrawn}",
                ),
                purpose=purpose_label(t, consent["purpose"]),
                date=_moment(t, consent["given_at"]),
                how=how_label(t, consent["given_how"]),
                version=consent["text_version"],
                language=_language_name(consent["language"]),
                withdrawn=_moment(t, consent["withdrawn_at"]),
            )
        )
    case = data["case"]
    if case is not None:
        lines += [
            "",
            t.pgettext("privacy", "== Your case =="),
            _fill(t.pgettext("privacy", "Case number: {value}"), value=case["number"]),
            _fill(t.pgettext("privacy", "Status: {value}"), value=case_status_label(t, case["status"])),
            _fill(t.pgettext("privacy", "First name: {value}"), value=case["first_name"] or "–"),
            _fill(t.pgettext("privacy", "Opened: {value}"), value=_moment(t, case["opened_at"])),
            _fill(t.pgettext("privacy", "Advisor: {value}"), value=case["advisor"] or "–"),
        ]
        if case["extension_reason"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "Reason for the extension: {value}"), value=case["extension_reason"]
                )
            )
    if data["needs_assessment"]:
        lines += ["", t.pgettext("privacy", "== Needs assessment ==")]
        for need in data["needs_assessment"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "{area}: {status}. {note}"),
                    area=need_area_label(t, need["area"]),
                    status=progress_label(t, need["status"]),
                    note=need["note"] or "",
                ).rstrip()
            )
    if data["goals"]:
        lines += ["", t.pgettext("privacy", "== Integration plan ==")]
        for goal in data["goals"]:
            lines += [
                _fill(
                    t.pgettext("privacy", "{area}: {goal} ({status}, due {due})"),
                    area=need_area_label(t, goal["area"]),
                    goal=goal["goal"] or "–",
                    status=progress_label(t, goal["status"]),
                    due=_day(t, goal["due_on"]),
                ),
                _fill(t.pgettext("privacy", "   Steps: {value}"), value=goal["steps"] or "–"),
            ]
    if data["reviews"]:
        lines += ["", t.pgettext("privacy", "== Reviews ==")]
        for review in data["reviews"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "{date}: {text}"),
                    date=_day(t, review["held_on"]),
                    text=review["summary"] or "–",
                )
            )
    if data["consultation_notes"]:
        lines += ["", t.pgettext("privacy", "== Consultation notes ==")]
        for note in data["consultation_notes"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "{date}: {text}"),
                    date=_moment(t, note["created_at"]),
                    text=note["text"] or "–",
                )
            )
    if data["case_texts"] in ("not_included", "partly_unreadable"):
        lines += [
            "",
            _fill(
                t.pgettext(
                    "privacy",
                    "Your case also holds notes that are stored encrypted and could not be included in "
                    "this copy. Please ask the integration management for them.",
                ),
            ),
        ]
    if data["referrals"]:
        lines += ["", t.pgettext("privacy", "== Referrals to offers ==")]
        for referral in data["referrals"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "{date}: {offer} ({status})"),
                    date=_moment(t, referral["created_at"]),
                    offer=referral["offer"] or "–",
                    status=referral["status"],
                )
            )
    if data["appointments"]:
        lines += ["", t.pgettext("privacy", "== Appointments ==")]
        for appointment in data["appointments"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "{when}: {topic}, in {language}, with {advisor} ({status})"),
                    when=_moment(t, appointment["starts_at"]),
                    topic=topic_label(t, appointment["topic"]),
                    language=_language_name(appointment["language"]),
                    advisor=appointment["advisor"] or "–",
                    status=appointment_status_label(t, appointment["status"]),
                )
            )
    if data["waiting_list"]:
        lines += ["", t.pgettext("privacy", "== Waiting list ==")]
        for entry in data["waiting_list"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "Since {date}: {topic}"),
                    date=_moment(t, entry["joined_at"]),
                    topic=topic_label(t, entry["topic"]),
                )
            )
    if data["case_access_log"]:
        lines += ["", t.pgettext("privacy", "== Who worked on your case ==")]
        for entry in data["case_access_log"]:
            lines.append(
                _fill(
                    t.pgettext("privacy", "{date}: {who} ({action})"),
                    date=_moment(t, entry["at"]),
                    who=entry["by"] or entry["role"],
                    action=entry["action"],
                )
            )
    lines += [
        "",
        _fill(
            t.pgettext("privacy", "The file {file} holds the same data in a machine-readable format."),
            file=JSON_FILE,
        ),
    ]
    return "\n".join(lines) + "\n"


async def export(update: Update, context: BotContext) -> None:
    """Send the person their data as two files, to the chat of this very update only."""
    query = update.callback_query
    viewer = context.viewer
    chat = update.effective_chat
    if query is None or viewer is None or chat is None or chat.id != viewer.telegram_id:
        return
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        data = await data_export.export_person_data(
            session, context.runtime.cipher, viewer.person_id, context.now()
        )
    await query.answer(t.pgettext("privacy", "Your data is on its way."))
    await context.bot.send_document(
        chat.id,
        InputFile(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), filename=JSON_FILE),
        caption=t.pgettext("privacy", "📎 All data Wegweiser stores about you, machine-readable (JSON)."),
    )
    await context.bot.send_document(
        chat.id,
        InputFile(readable_copy(t, data).encode("utf-8"), filename=TEXT_FILE),
        caption=t.pgettext("privacy", "📎 The same data to read, in your language."),
        reply_markup=back_to_privacy(t),
    )


# ---- deleting everything -----------------------------------------------------------------------


def delete_question(t: Translator) -> str:
    return t.pgettext(
        "privacy",
        "<b>🗑 Delete everything?</b>\n\n"
        "This deletes for good:\n"
        "• your account and your language setting,\n"
        "• your consents,\n"
        "• your case record with all notes, needs, plan and reviews,\n"
        "• your appointments and reminders, and your place on the waiting list.\n\n"
        "Appointments still ahead are cancelled, and your advisor is told. This cannot be undone. "
        "If you want to keep a copy, tap “Send me my data” first.",
    )


async def ask_delete(update: Update, context: BotContext) -> None:
    """Say what deleting everything means before anything is deleted."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    t = context.t
    await show(
        update,
        context,
        delete_question(t),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.pgettext("privacy", "🗑 Yes, delete everything"),
                        callback_data=DELETE_CONFIRMED.encode(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t.pgettext("privacy", "↩ No, keep my data"), callback_data=OVERVIEW.encode()
                    )
                ],
            ]
        ),
    )


def deleted_text(t: Translator, cancelled: int) -> str:
    text = t.pgettext(
        "privacy",
        "🗑 <b>Everything has been deleted.</b>\n\n"
        "Wegweiser no longer stores anything about you. You can also delete this chat in Telegram. "
        "If you write to Wegweiser again, it starts anew, as with someone new.",
    )
    if cancelled:
        text += "\n\n" + t.npgettext(
            "privacy",
            "{n} appointment that was still ahead has been cancelled, and your advisor has been told.",
            "{n} appointments that were still ahead have been cancelled, and your advisors have been told.",
            cancelled,
        )
    return text


def advisor_deletion_notice(t: Translator, cancelled: CancelledAppointment) -> str:
    return t.pgettext(
        "privacy",
        "✖ <b>Appointment cancelled</b>\n{when}\n{name} ({case}) has deleted their data in Wegweiser. "
        "The appointment is cancelled and the time is free again; the case record was deleted too.",
        when=when_text(t, cancelled.starts_at, cancelled.ends_at),
        name=cancelled.first_name or "–",
        case=cancelled.case_number,
    )


async def delete(update: Update, context: BotContext) -> None:
    """Delete the person and everything about them; tell the advisors of cancelled appointments."""
    query = update.callback_query
    viewer = context.viewer
    if query is None or viewer is None:
        return
    t = context.t
    runtime = context.runtime
    try:
        async with session_scope(runtime.sessions) as session:
            deletion = await privacy.delete_everything(session, viewer.person_id, context.now())
    except privacy.DeletionRefused:
        text = t.pgettext(
            "privacy",
            "Staff accounts cannot be deleted here. Please ask an admin to remove your staff role first.",
        )
        await query.answer()
        await show(update, context, text, back_to_privacy(t))
        return
    await query.answer()
    await show(update, context, deleted_text(t, len(deletion.cancelled)))
    for cancelled in deletion.cancelled:
        if cancelled.advisor is None:
            continue
        advisor_t = Translator(cancelled.advisor.language or runtime.default_language, runtime.zone)
        await tell(
            context.bot,
            runtime.sessions,
            cancelled.advisor,
            advisor_deletion_notice(advisor_t, cancelled),
            context.now(),
        )
    if deletion.cancelled:
        await offer_freed_times(context)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("privacy", overview),
        # "menu:privacy" comes from the main menu (handlers.keyboards).
        CallbackQueryHandler(overview, pattern=lambda data: OVERVIEW.matches(data) or data == "menu:privacy"),
        CallbackQueryHandler(withdraw, pattern=WITHDRAW.matches),
        CallbackQueryHandler(export, pattern=EXPORT.matches),
        CallbackQueryHandler(ask_delete, pattern=DELETE.matches),
        CallbackQueryHandler(delete, pattern=DELETE_CONFIRMED.matches),
    ]
