"""How appointments read in every journey: topic and type labels, the when-line, the summary, and
the short notices advisors get (time, type, first name, case number, topic, language — no case
contents)."""

from __future__ import annotations

import html
import logging
from datetime import datetime

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from handlers import waiting
from handlers.errors import is_block, is_network_blip
from locales import Html, Translator
from storage import people
from storage.appointment_views import AppointmentView
from storage.db import SessionFactory, session_scope
from storage.models import Person

log = logging.getLogger(__name__)


def topic_label(t: Translator, topic: str) -> str:
    labels = {
        "housing": t.pgettext("booking", "🏠 Housing"),
        "work": t.pgettext("booking", "💼 Work and training"),
        "language": t.pgettext("booking", "🗣 Language course"),
        "family": t.pgettext("booking", "👪 Family and school"),
        "health": t.pgettext("booking", "🩺 Health"),
        "papers": t.pgettext("booking", "📄 Papers and authorities"),
        "money": t.pgettext("booking", "💶 Money"),
        "other": t.pgettext("booking", "💬 Something else"),
    }
    return labels[topic]


def kind_label(t: Translator, kind: str, minutes: int) -> Html:
    if kind == "first":
        return Html(t.pgettext("booking", "First consultation ({minutes} minutes)", minutes=minutes))
    return Html(t.pgettext("booking", "Follow-up consultation ({minutes} minutes)", minutes=minutes))


def when_text(t: Translator, starts_at: datetime, ends_at: datetime) -> Html:
    """'Tuesday, 3 March 2026, 9:00 AM – 10:00 AM' in the reader's language, clock and local time; already
    Telegram HTML, so it is not escaped again when used as a placeholder value."""
    local = starts_at.astimezone(t.zone)
    return Html(
        t.pgettext(
            "booking",
            "{date}, {times}",
            date=t.date(local.date()),
            times=t.time_range(starts_at, ends_at),
        )
    )


def language_text(t: Translator, language: str | None, interpreter: bool) -> Html:
    """The appointment's language named in the reader's language: staff read 'Ukrainisch', not an
    endonym they may not be able to read."""
    name = t.language_name(language) if language else "–"
    if interpreter:
        return Html(t.pgettext("booking", "with an interpreter for {language}", language=name))
    return Html(html.escape(name))


def staff_language_text(t: Translator, language: str | None, interpreter: bool) -> Html:
    """The appointment's language as its advisor reads it (in the advisor's language), saying when an
    interpreter is needed."""
    name = t.language_name(language) if language else "–"
    if interpreter:
        return Html(t.pgettext("advisor", "⚠ interpreter needed for {language}", language=name))
    return Html(html.escape(name))


def advisor_first_name(advisor: Person | None) -> str:
    if advisor is None or not advisor.staff_name:
        return "–"
    return advisor.staff_name.split()[0]


def summary_text(
    t: Translator,
    *,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    advisor: Person | None,
    topic: str,
    language: str | None,
    interpreter: bool,
) -> str:
    """An appointment as the person sees it: type, when, where, with whom, topic, language."""
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    return "\n".join(
        [
            "📋 " + kind_label(t, kind, minutes),
            "📅 " + when_text(t, starts_at, ends_at),
            "📍 " + html.escape(place),
            t.pgettext("booking", "👤 with {advisor}", advisor=advisor_first_name(advisor)),
            t.pgettext("booking", "💬 Topic: {topic}", topic=topic_label(t, topic)),
            t.pgettext("booking", "🗣 Language: {language}", language=language_text(t, language, interpreter)),
        ]
    )


def summary_lines(t: Translator, view: AppointmentView) -> str:
    appointment = view.appointment
    return summary_text(
        t,
        kind=appointment.kind,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        place=view.place,
        advisor=view.advisor,
        topic=appointment.topic,
        language=appointment.language,
        interpreter=appointment.interpreter,
    )


def advisor_notice(
    t: Translator, view: AppointmentView, event: str, previous: tuple[datetime, datetime] | None = None
) -> str:
    """What the advisor is told when a booking is made, cancelled or moved (a move names the
    ``previous`` time too)."""
    appointment = view.appointment
    headline = {
        "booked": t.pgettext("advisor", "📅 <b>New booking</b>"),
        "cancelled": t.pgettext("advisor", "✖ <b>Cancelled by the person</b>"),
        "moved": t.pgettext("advisor", "↔ <b>Moved to a new time</b>"),
    }[event]
    details = t.pgettext(
        "advisor",
        "{when}\n{kind}\n{name} ({case})\nTopic: {topic}\nLanguage: {language}",
        when=when_text(t, appointment.starts_at, appointment.ends_at),
        kind=kind_label(t, appointment.kind, view.minutes),
        name=view.case.first_name or "–",
        case=view.case.number,
        topic=topic_label(t, appointment.topic),
        language=staff_language_text(t, appointment.language, appointment.interpreter),
    )
    if event == "moved" and previous is not None:
        details = t.pgettext(
            "advisor",
            "Before: {before}\nNow: {details}",
            before=when_text(t, *previous),
            details=Html(details),
        )
    return f"{headline}\n{details}"


async def tell(
    bot: Bot, sessions: SessionFactory, person: Person | None, text: str, now: datetime, **kwargs: object
) -> bool:
    """Send to a person; ``False`` when it did not arrive (a person who blocked the bot is marked;
    anything but a block or a network blip is logged as the bug it is). For staff who have not
    started the bot yet the message waits in the database (``True``: it will arrive)."""
    if person is None or person.blocked_at is not None:
        return False
    try:
        await bot.send_message(person.telegram_id, text, **kwargs)  # type: ignore[arg-type]
    except Forbidden as error:
        if person.is_staff and waiting.cannot_initiate(error):
            await waiting.hold(sessions, person, text, kwargs.get("reply_markup"), now)
            return True
        if is_block(error):
            async with session_scope(sessions) as session:
                await people.mark_blocked(session, person.telegram_id, now)
        else:
            log.error("message not delivered: %s", type(error).__name__, exc_info=error)
        return False
    except TelegramError as error:
        if is_block(error):
            async with session_scope(sessions) as session:
                await people.mark_blocked(session, person.telegram_id, now)
        elif is_network_blip(error):
            log.warning("message not delivered: %s", type(error).__name__)
        else:  # a bug in what we sent, or a refusal we do not expect: never silent
            log.error("message not delivered: %s", type(error).__name__, exc_info=error)
        return False
    if person.not_started_at is not None:  # added before they wrote, but Telegram lets us write now
        await waiting.reached(sessions, person)
    return True
