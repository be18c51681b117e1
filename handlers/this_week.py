"""What is on this week: the next seven days' events of the offers, day by day in the person's
language, each with a button for a calendar file (.ics)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import when_text
from handlers.buttons import Fields, Refused
from handlers.callbacks import Action, integer
from handlers.context import BotContext
from handlers.keyboards import MENU, button_label
from handlers.offer_cards import offer_name
from handlers.offers import local_today
from handlers.replies import show
from locales import Translator
from storage import events
from storage.db import session_scope
from storage.events import Occurrence

DAYS = 7
MAX_SHOWN = 25  # keeps the message well within Telegram's 4,096 characters
CALENDAR_FILE = Action("wkics", (integer(), r"20[0-9]{6}"))


def week_text(t: Translator, municipality: str, found: list[Occurrence], more: int) -> str:
    """The events day by day: the day as the language writes it, then time, name and place."""
    lines = [t.pgettext("week", "📆 <b>This week in {municipality}</b>", municipality=municipality)]
    if not found:
        lines.append(t.pgettext("week", "No events are planned for the next seven days."))
        return "\n\n".join(lines)
    by_day: dict[date, list[str]] = {}
    for occurrence in found:
        entry = t.pgettext(
            "week",
            "{times} · {name}",
            times=t.time_range(occurrence.starts_at, occurrence.ends_at),
            name=offer_name(occurrence.offer, t.language),
        )
        if occurrence.place:
            entry += "\n" + t.pgettext("week", "📍 {place}", place=occurrence.place)
        by_day.setdefault(occurrence.day, []).append(entry)
    lines += [f"<b>{t.day(day, 'MMMMEd')}</b>\n" + "\n".join(entries) for day, entries in by_day.items()]
    if more:
        lines.append(t.npgettext("week", "… and {n} more event.", "… and {n} more events.", more))
    lines.append(t.pgettext("week", "Tap an event below to add it to your phone's calendar."))
    return "\n\n".join(lines)


def week_keyboard(t: Translator, found: list[Occurrence]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                button_label(
                    t.pgettext(
                        "week",
                        "📅 {weekday} {time} {name}",
                        weekday=t.weekday(occurrence.day.weekday(), "abbreviated"),
                        time=t.time(occurrence.starts_at),
                        name=offer_name(occurrence.offer, t.language),
                    )
                ),
                callback_data=CALENDAR_FILE.encode(occurrence.event_id, occurrence.day.strftime("%Y%m%d")),
            )
        ]
        for occurrence in found
    ]
    rows.append([InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))])
    return InlineKeyboardMarkup(rows)


def event_ics(occurrence: Occurrence, name: str, stamp: datetime) -> bytes:
    """One calendar event: the offer's name, the time and the place."""
    from icalendar import Calendar, Event  # loaded with the first calendar file, not at start-up

    event = Event()
    event.add("uid", f"event-{occurrence.event_id}-{occurrence.day:%Y%m%d}@wegweiser")
    event.add("dtstamp", stamp)
    event.add("dtstart", occurrence.starts_at)
    event.add("dtend", occurrence.ends_at)
    event.add("summary", name)
    if occurrence.place:
        event.add("location", occurrence.place)
    calendar = Calendar()
    calendar.add("prodid", "-//Wegweiser//Integration management//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()


async def show_week(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """The main menu's "This week"."""
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        found = await events.upcoming(session, local_today(context), context.runtime.zone, DAYS)
    shown = found[:MAX_SHOWN]
    await show(
        update,
        context,
        week_text(t, context.runtime.municipality, shown, len(found) - len(shown)),
        week_keyboard(t, shown),
    )


async def send_calendar_file(update: Update, context: BotContext, fields: Fields) -> None:
    """A tap on an event: its .ics file, if it still takes place on that day."""
    t = context.t
    event_id, code = int(fields[0]), fields[1]
    try:
        day = datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        day = None
    today = local_today(context)
    found = None
    if day is not None and today <= day < today + timedelta(days=DAYS + 7):
        async with session_scope(context.runtime.sessions) as session:
            found = await events.occurrence(session, event_id, day, today, context.runtime.zone)
    if found is None or found.ends_at <= context.now():
        raise Refused(
            t.pgettext("week", "This event no longer takes place then. Please look at this week again.")
        )
    name = offer_name(found.offer, t.language)
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(event_ics(found, name, context.now()), filename="wegweiser-event.ics"),
        caption=t.pgettext(
            "week",
            "📎 {name}, {when}: add it to your phone's calendar.",
            name=name,
            when=when_text(t, found.starts_at, found.ends_at),
        ),
    )


def handlers() -> list[BaseHandler]:
    return [buttons.command("week", show_week), buttons.button(CALENDAR_FILE, send_calendar_file)]
