"""/hours for advisors: weekly consultation hours, absences, languages and place, changed by
buttons and typed answers (the bot waits for the answer persistently, see ``storage.pending``)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons, staff
from handlers.advisor import ADVISORS, advisors_button, agenda_between
from handlers.appointment_texts import default_place
from handlers.buttons import Answer, Fields
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.keyboards import in_rows
from handlers.replies import show
from handlers.typed_answers import AnswerHandler
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Html, Translator
from storage import booking, pending
from storage.booking import BookingRefused
from storage.db import session_scope
from storage.hours import HoursError
from storage.models import Absence, AppointmentStatus
from storage.pending import Waiting

PLACE_MAX = 200
REFERENCE_MONDAY = date(2026, 1, 5)  # any Monday: weekday names come from formatting its week
WEEKDAY = one_of(tuple(str(day) for day in range(7)))

HOURS = Action("vhours")
HOURS_DAYS = Action("vhdays")
HOURS_DAY = Action("vhday", (WEEKDAY,))
ABSENCE_ADD = Action("vabsadd")
ABSENCE_LIST = Action("vabsls")
ABSENCE_REMOVE = Action("vabsrm", (integer(),))
LANGUAGES = Action("vlangs")
PLACE = Action("vplace")

WAITING_HOURS = "advisor_hours"
WAITING_ABSENCE = "advisor_absence"
WAITING_LANGUAGES = "advisor_languages"
WAITING_PLACE = "advisor_place"

_DAY = r"(\d{4}-\d{2}-\d{2})"
_ABSENCE = re.compile(rf"\s*{_DAY}(?:\s*(?:\s|-|–|—)\s*{_DAY})?\s*")


class InvalidAnswer(ValueError):
    """A typed answer that cannot be saved; ``reason`` says why (translated for the advisor)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def weekday_name(t: Translator, weekday: int) -> str:
    """'Monday' … 'Sunday' (0 … 6) in the reader's language."""
    return t.date(REFERENCE_MONDAY + timedelta(days=weekday), "EEEE")


def parse_languages(text: str) -> list[str] | None:
    """``"de, en, ar"`` → ``["de", "en", "ar"]``; ``"-"`` clears; ``None`` when a code is unknown."""
    if text.strip() == "-":
        return []
    codes = [code.lower() for code in re.split(r"[,;\s]+", text) if code]
    if not codes or any(code not in SUPPORTED_LANGUAGES for code in codes):
        return None
    return list(dict.fromkeys(codes))


def parse_absence(text: str) -> tuple[date, date]:
    """``"2026-03-10 2026-03-14"`` or a single ``"2026-03-10"`` → first and last day."""
    match = _ABSENCE.fullmatch(text)
    if match is None:
        raise InvalidAnswer("absence_format")
    try:
        first = date.fromisoformat(match[1])
        last = date.fromisoformat(match[2]) if match[2] else first
    except ValueError:
        raise InvalidAnswer("absence_format") from None
    if last < first:
        raise InvalidAnswer("absence_order")
    return first, last


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
        ranges = ", ".join(f"{start}–{end}" for start, end in weekly.get(weekday, []))
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
            languages=", ".join(ENDONYMS.get(code, code) for code in languages)
            or Html(t.pgettext("advisor", "not set yet")),
        )
    )
    lines.append(
        t.pgettext("advisor", "<b>Place:</b> {place}", place=place)
        if place
        else t.pgettext("advisor", "<b>Place:</b> {place} (default)", place=default_place(municipality))
    )
    return "\n".join(lines)


def absence_label(t: Translator, absence: Absence) -> str:
    if absence.first_day == absence.last_day:
        return t.date(absence.first_day, "medium")
    return f"{t.date(absence.first_day, 'medium')} – {t.date(absence.last_day, 'medium')}"


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
        weekly = await booking.weekly_hours(session, advisor_id)
        upcoming = await booking.absences(session, advisor_id, today)
        advisor_profile = await booking.profile(session, advisor_id)
        languages, place = list(advisor_profile.languages), advisor_profile.place
    text = hours_text(t, weekly, upcoming, languages, place, runtime.municipality)
    if note:
        text = f"{note}\n\n{text}"
    await show(update, context, text, hours_keyboard(t, bool(upcoming)))


async def hours(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/hours: weekly hours, upcoming absences, languages and place, with buttons to change them."""
    await _show_hours(update, context)


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


def invalid_answer_text(t: Translator, reason: str) -> str:
    """Why a typed answer was not saved, in the advisor's language."""
    reasons = {
        "hours_format": t.pgettext(
            "advisor",
            "Please write time ranges that do not overlap, like this: 09:00-12:00, 14:00-16:00 "
            "(or a single - for none).",
        ),
        "hours_grid": t.pgettext(
            "advisor", "Consultation hours start and end on the hour or half hour, e.g. 09:00-12:30."
        ),
        "absence_format": t.pgettext(
            "advisor", "Please write one date, or two dates like this: 2026-03-10 2026-03-14"
        ),
        "absence_order": t.pgettext("advisor", "The last day must not be before the first day."),
        "absence_past": t.pgettext("advisor", "This absence is already over."),
        "languages": t.pgettext(
            "advisor",
            "Please write language codes separated by commas, like this: de, en, ar. Known codes: {codes}.",
            codes=", ".join(SUPPORTED_LANGUAGES),
        ),
        "place_empty": t.pgettext("advisor", "Please write the place, or a single - for the default."),
        "place_long": t.pgettext("advisor", "This is too long: at most {limit} characters.", limit=PLACE_MAX),
    }
    return reasons[reason]


async def _save_hours(session: AsyncSession, advisor_id: int, payload: dict, text: str, today: date) -> None:
    ranges = "" if text.strip() == "-" else text
    try:
        await booking.set_weekly_hours(session, advisor_id, int(payload["weekday"]), ranges)
    except HoursError:
        raise InvalidAnswer("hours_format") from None
    except ValueError:
        raise InvalidAnswer("hours_grid") from None


async def _save_absence(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, today: date
) -> None:
    first, last = parse_absence(text)
    if last < today:
        raise InvalidAnswer("absence_past")
    await booking.add_absence(session, advisor_id, first, last)


async def _save_languages(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, today: date
) -> None:
    codes = parse_languages(text)
    if codes is None:
        raise InvalidAnswer("languages")
    (await booking.profile(session, advisor_id)).languages = codes


async def _save_place(session: AsyncSession, advisor_id: int, payload: dict, text: str, today: date) -> None:
    place = text.strip()
    if not place:
        raise InvalidAnswer("place_empty")
    if len(place) > PLACE_MAX:
        raise InvalidAnswer("place_long")
    (await booking.profile(session, advisor_id)).place = None if place == "-" else place


SAVERS = {
    WAITING_HOURS: _save_hours,
    WAITING_ABSENCE: _save_absence,
    WAITING_LANGUAGES: _save_languages,
    WAITING_PLACE: _save_place,
}


async def receive_answer(update: Update, context: BotContext, waiting: Waiting) -> None:
    """A typed answer to one of /hours' questions: save it, or explain and keep waiting."""
    message = update.effective_message
    viewer = context.viewer
    if message is None or message.text is None or viewer is None:
        return
    t = context.t
    runtime = context.runtime
    today = context.now().astimezone(runtime.zone).date()
    rejected: str | None = None
    allowed = True
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await booking.advisor_or_refuse(session, viewer.telegram_id)
            await SAVERS[waiting.kind](session, advisor.id, waiting.payload, message.text, today)
            await pending.stop_waiting(session, viewer.person_id)
        except InvalidAnswer as error:
            rejected = error.reason
        except BookingRefused:
            allowed = False
            await pending.stop_waiting(session, viewer.person_id)
    if not allowed:
        await message.reply_text(staff.refusal(t))
        return
    if rejected is not None:
        await message.reply_text(
            t.pgettext(
                "advisor",
                "Not saved. {reason}\nPlease try again, or /cancel.",
                reason=Html(invalid_answer_text(t, rejected)),
            )
        )
        return
    note = t.pgettext("advisor", "✅ Saved.")
    if waiting.kind == WAITING_ABSENCE:
        first, last = parse_absence(message.text)
        booked = sum(
            1
            for appointment, _ in await agenda_between(context, viewer.person_id, first, last)
            if appointment.status == AppointmentStatus.BOOKED
        )
        if booked:
            note += "\n" + t.npgettext(
                "advisor",
                "You have {n} booked appointment in this time. It is not cancelled automatically: "
                "cancel it in /agenda if needed.",
                "You have {n} booked appointments in this time. They are not cancelled automatically: "
                "cancel them in /agenda if needed.",
                booked,
            )
    await _show_hours(update, context, note)


async def choose_absence_to_remove(update: Update, context: BotContext, _fields: Fields) -> None:
    """The upcoming absences as buttons: tapping one removes it."""
    assert context.viewer is not None
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        upcoming = await booking.absences(session, context.viewer.person_id, today)
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
        removed = await booking.remove_absence(session, context.viewer.person_id, fields[0])
    note = (
        t.pgettext("advisor", "✅ The absence was removed.")
        if removed
        else t.pgettext("advisor", "This absence does not exist (any more).")
    )
    await _show_hours(update, context, note)
    return Answer(note)


TYPED_ANSWERS: dict[str, AnswerHandler] = {kind: receive_answer for kind in SAVERS}


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
        advisors_button(LANGUAGES, ask_languages),
        advisors_button(PLACE, ask_place),
    ]
