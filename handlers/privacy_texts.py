"""How "Privacy and my data" reads: the buttons' data, the labels, what is stored at a glance,
and the texts of withdrawing a consent and deleting everything."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.appointment_texts import topic_label, when_text
from handlers.callbacks import Action, one_of
from handlers.keyboards import MENU
from locales import ENDONYMS, Translator
from storage.consent import Purpose
from storage.privacy import CancelledAppointment, PersonData

OVERVIEW = Action("priv")
WITHDRAW = Action("pwdraw", (one_of(tuple(Purpose)),))
EXPORT = Action("pexport")
DELETE = Action("pdelete")
DELETE_CONFIRMED = Action("pdelok")
SHOWN_APPOINTMENTS = 5
SHOWN_CONSENTS = 12  # the latest; the copy of my data holds all


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


def language_name(language: str | None) -> str:
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
            language=language_name(data.language),
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
            "language": language_name(consent.language),
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


# ---- withdrawing a consent, deleting everything ---------------------------------------------------


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
