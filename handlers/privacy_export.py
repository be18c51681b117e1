"""A copy of my data: everything Wegweiser stores about the person, as a machine-readable file and
as a plain-text file in their language, sent to the chat of their own update only."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import topic_label
from handlers.buttons import Answer, Fields
from handlers.context import BotContext
from handlers.privacy_texts import (
    EXPORT,
    appointment_status_label,
    back_to_privacy,
    case_status_label,
    how_label,
    language_name,
    need_area_label,
    progress_label,
    purpose_label,
)
from locales import Translator
from storage import data_export
from storage.db import session_scope

JSON_FILE = "wegweiser-my-data.json"
TEXT_FILE = "wegweiser-my-data.txt"


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
        _fill(t.pgettext("privacy", "Language: {value}"), value=language_name(person["language"])),
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
                language=language_name(consent["language"]),
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
                    language=language_name(appointment["language"]),
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


async def export(update: Update, context: BotContext, _fields: Fields) -> Answer | None:
    """Send the person their data as two files, to the chat of this very update only."""
    viewer = context.viewer
    chat = update.effective_chat
    if viewer is None or chat is None or chat.id != viewer.telegram_id:
        return None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        data = await data_export.export_person_data(
            session, context.runtime.cipher, viewer.person_id, context.now()
        )
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
    return Answer(t.pgettext("privacy", "Your data is on its way."))


def handlers() -> list[BaseHandler]:
    return [buttons.button(EXPORT, export)]
