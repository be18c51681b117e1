"""The advisors' typed answers to /hours' questions: hours of a weekday, an absence, languages,
place. A right value is saved (the rules are ``storage.advisors``'); a wrong one is explained and the
bot keeps waiting; an absence over booked appointments asks what becomes of them first."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import staff
from handlers.advisor_hours import (
    WAITING_ABSENCE,
    WAITING_HOURS,
    WAITING_LANGUAGES,
    WAITING_PLACE,
    ask_about_booked,
    show_hours,
)
from handlers.context import BotContext
from handlers.domain_errors import domain_error_text
from handlers.typed_answers import AnswerHandler
from locales import Html
from storage import advisors, pending
from storage.db import session_scope
from storage.errors import DomainError
from storage.models import Appointment, Case
from storage.pending import Waiting


async def _save_hours(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    await advisors.set_weekly_hours(session, advisor_id, int(payload["weekday"]), text)


async def _save_absence(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    first, last = advisors.parse_absence(text)
    await advisors.add_absence(session, advisor_id, first, last, zone=zone, now=now)


async def _save_languages(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    await advisors.set_languages(session, advisor_id, text)


async def _save_place(
    session: AsyncSession, advisor_id: int, payload: dict, text: str, now: datetime, zone: tzinfo
) -> None:
    await advisors.set_place(session, advisor_id, text)


SAVERS = {
    WAITING_HOURS: _save_hours,
    WAITING_ABSENCE: _save_absence,
    WAITING_LANGUAGES: _save_languages,
    WAITING_PLACE: _save_place,
}


async def receive_answer(update: Update, context: BotContext, waiting: Waiting) -> None:
    """A typed answer to one of /hours' questions: save it, or explain and keep waiting. An absence
    over booked appointments is not saved yet: the advisor is asked what becomes of them."""
    message = update.effective_message
    viewer = context.viewer
    if message is None or message.text is None or viewer is None:
        return
    t = context.t
    runtime = context.runtime
    refused: DomainError | None = None
    booked: list[tuple[Appointment, Case]] = []
    async with session_scope(runtime.sessions) as session:
        try:
            advisor = await advisors.advisor_or_refuse(session, viewer.telegram_id)
            await SAVERS[waiting.kind](
                session, advisor.id, waiting.payload, message.text, context.now(), runtime.zone
            )
            await pending.stop_waiting(session, viewer.person_id)
        except DomainError as error:
            refused = error
            if error.reason in ("not_yours", "absence_booked"):
                await pending.stop_waiting(session, viewer.person_id)
            booked = list(error.details.get("appointments", ()))
    if refused is not None and refused.reason == "not_yours":
        await message.reply_text(staff.refusal(t))
    elif refused is not None and refused.reason == "absence_booked":
        await ask_about_booked(update, context, message.text, booked)
    elif refused is not None:
        await message.reply_text(
            t.pgettext(
                "advisor",
                "Not saved. {reason}\nPlease try again, or /cancel.",
                reason=Html(domain_error_text(t, refused)),
            )
        )
    else:
        await show_hours(update, context, t.pgettext("advisor", "✅ Saved."))


TYPED_ANSWERS: dict[str, AnswerHandler] = {kind: receive_answer for kind in SAVERS}
