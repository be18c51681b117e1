"""The advisors' typed answers to /hours' questions: hours of a weekday, an absence, languages,
place. A wrong value is explained and the bot keeps waiting; a right one is saved."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import staff
from handlers.advisor import agenda_between
from handlers.advisor_hours import (
    WAITING_ABSENCE,
    WAITING_HOURS,
    WAITING_LANGUAGES,
    WAITING_PLACE,
    show_hours,
)
from handlers.context import BotContext
from handlers.typed_answers import AnswerHandler
from locales import SUPPORTED_LANGUAGES, Html, Translator
from storage import booking, pending
from storage.booking import BookingRefused
from storage.db import session_scope
from storage.hours import HoursError
from storage.models import AppointmentStatus
from storage.pending import Waiting

PLACE_MAX = 200
_DAY = r"(\d{4}-\d{2}-\d{2})"
_ABSENCE = re.compile(rf"\s*{_DAY}(?:\s*(?:\s|-|–|—)\s*{_DAY})?\s*")


class InvalidAnswer(ValueError):
    """A typed answer that cannot be saved; ``reason`` says why (translated for the advisor)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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
    await show_hours(update, context, note)


TYPED_ANSWERS: dict[str, AnswerHandler] = {kind: receive_answer for kind in SAVERS}
