"""Booking a consultation: consent (once), topic, language or interpreter, day, time, summary, confirm.

Every step's button carries where the person is (topic, language, the offer it is about, the time),
so a restart between two taps loses nothing; the last step re-checks everything in ``storage``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers import calendar_files
from handlers.appointment_texts import advisor_notice, summary_lines, summary_text, tell, topic_label
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.durations import duration_text
from handlers.keyboards import MENU, back_to_menu, in_rows
from handlers.replies import show
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator
from storage import advisors, booking, consent, people, slots, waiting_list
from storage.appointment_views import load_view
from storage.booking import TOPICS, BookingRefused
from storage.consent import Purpose
from storage.db import session_scope
from storage.models import Person
from storage.reminders import BEFORE

LANGUAGE_CHOICE = one_of((*SUPPORTED_LANGUAGES, "i"))  # "i": the person's language, with an interpreter
ABOUT = r"-|0|[1-9][0-9]{0,8}"  # the offer the consultation is about, or "-"
TOPIC = one_of(TOPICS)

START = Action("book", (ABOUT,))
AGREE = Action("bagree", (one_of(("yes", "no")), ABOUT))
CHOOSE_TOPIC = Action("btopic", (TOPIC, ABOUT))
CHOOSE_LANGUAGE = Action("blang", (TOPIC, LANGUAGE_CHOICE, ABOUT))
CHOOSE_TIME = Action("btime", (TOPIC, LANGUAGE_CHOICE, integer(10), ABOUT))
CONFIRM = Action("bok", (TOPIC, LANGUAGE_CHOICE, integer(10), integer(), ABOUT))
WAIT = Action("bwait", (TOPIC, LANGUAGE_CHOICE))
# Days: a day of the window (YYYYMMDD), shared with moving (which carries the appointment instead).
CHOOSE_DAY = Action("bday", (TOPIC, LANGUAGE_CHOICE, r"20[0-9]{6}", ABOUT))
MAX_DAYS = 12


def minute_of(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def moment_of(minute: str | int) -> datetime:
    return datetime.fromtimestamp(int(minute) * 60, UTC)


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def day_of(code: str) -> date | None:
    try:
        return datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        return None


def free_days(free: list[slots.Slot], zone: tzinfo) -> list[date]:
    """The first days (local dates) that have free times, for a day picker."""
    return sorted({slot.starts_at.astimezone(zone).date() for slot in free})[:MAX_DAYS]


def day_label(t: Translator, day: date) -> str:
    return t.day(day)


def another_day_label(t: Translator) -> str:
    return t.pgettext("booking", "📅 Another day")


def _language(choice: str, viewer_language: str) -> tuple[str, bool]:
    """The language code and whether an interpreter is needed, from a language button."""
    return (viewer_language, True) if choice == "i" else (choice, False)


def _about(value: str) -> int | None:
    return None if value == "-" else int(value)


def cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.pgettext("booking", "✖ Stop booking"), callback_data=MENU.encode("home"))]


def refusal_text(t: Translator, reason: str, max_open: int) -> str:
    """Why a booking step did not work, in the person's language."""
    texts = {
        "taken": t.pgettext(
            "booking", "Sorry, this time was just taken by someone else. Please choose another one."
        ),
        "limit": t.npgettext(
            "booking",
            "You already have {n} open appointment. Please cancel it or wait until it has taken place "
            "before booking another.",
            "You already have {n} open appointments. Please cancel one or wait until one has taken place "
            "before booking another.",
            max_open,
        ),
        "too_late": t.pgettext(
            "booking",
            "It is too late to change this appointment online. Please contact the integration "
            "management directly.",
        ),
        "not_booked": t.pgettext("booking", "This appointment is no longer open."),
        "not_yours": t.pgettext("booking", "This appointment is not yours."),
        "advisor": t.pgettext(
            "booking", "This time cannot be booked with this advisor. Please choose one of the times shown."
        ),
    }
    return texts.get(
        reason, t.pgettext("booking", "This time can no longer be booked. Please choose another one.")
    )


# ---- steps -----------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """/book, the menu button, or "ask for a consultation" on an offer card."""
    query = update.callback_query
    about = "-"
    if query is not None:
        fields = START.decode(query.data)
        about = fields[0] if fields else "-"
        await query.answer()
    viewer = context.viewer
    if viewer is None:
        return
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        agreed = await consent.valid_consent(session, viewer.person_id, Purpose.BOOKING)
        open_ones = await booking.open_appointments(session, viewer.person_id, context.now())
    if len(open_ones) >= context.runtime.policy.max_open:
        await show(
            update,
            context,
            refusal_text(t, "limit", context.runtime.policy.max_open),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("menu", "🗓 My appointments"), callback_data=MENU.encode("appointments")
                        )
                    ]
                ]
            ),
        )
        return
    if agreed is None:
        await show(
            update,
            context,
            consent_text(t, context.runtime.municipality, context.runtime.retention),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("booking", "✅ I agree"), callback_data=AGREE.encode("yes", about)
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t.pgettext("booking", "✖ No, thank you"), callback_data=AGREE.encode("no", about)
                        )
                    ],
                ]
            ),
        )
        return
    await ask_topic(update, context, about)


def consent_text(t: Translator, municipality: str, retention: timedelta) -> str:
    """What booking stores, why and for how long (the retention period from the settings)."""
    return t.pgettext(
        "booking",
        "<b>Before you book: your data</b>\n\n"
        "To organise your consultation, the integration management in {municipality} stores:\n"
        "• your Telegram account and first name,\n"
        "• the time, topic and language of your appointments.\n\n"
        "Why: to plan the consultation, to send you reminders and to tell your advisor who is coming.\n"
        "How long: until you delete it, and at most {period} after your last contact.\n\n"
        "Giving this consent is voluntary. You can see, download or delete your data at any time under "
        "“Privacy and my data”. Without it, you can still book by phone or in person.",
        municipality=municipality,
        period=duration_text(t, retention),
    )


def interpreter_note(t: Translator, language: str) -> str:
    """Said before booking when none of the advisors speaks the chosen language."""
    return t.pgettext(
        "booking",
        "None of our advisors speaks {language}, so an interpreter is needed: we will arrange one "
        "for your appointment.",
        language=t.language_name(language),
    )


async def agree(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = AGREE.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    answer, about = fields
    t = context.t
    if answer == "no":
        await query.answer()
        await show(
            update,
            context,
            t.pgettext(
                "booking",
                "That is fine. Nothing was stored. You can book a consultation by phone or in person at "
                "the town hall, or come back here at any time.",
            ),
            back_to_menu(t),
        )
        return
    async with session_scope(context.runtime.sessions) as session:
        await consent.give_booking_consent(session, viewer.person_id, viewer.language, context.now())
    await query.answer(t.pgettext("booking", "Thank you."))
    await ask_topic(update, context, about)


async def ask_topic(update: Update, context: BotContext, about: str) -> None:
    t = context.t
    buttons = [
        InlineKeyboardButton(topic_label(t, topic), callback_data=CHOOSE_TOPIC.encode(topic, about))
        for topic in TOPICS
    ]
    rows = in_rows(buttons, 2)
    await show(
        update,
        context,
        t.pgettext("booking", "<b>Book a consultation</b>\n\nWhat would you like to talk about?"),
        InlineKeyboardMarkup([*rows, cancel_row(t)]),
    )


async def choose_topic(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = CHOOSE_TOPIC.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    await query.answer()
    topic, about = fields
    t = context.t
    own = context.viewer.language
    choices = [own] + [code for code in ("de", "en") if code != own]
    rows = [
        [InlineKeyboardButton(ENDONYMS[code], callback_data=CHOOSE_LANGUAGE.encode(topic, code, about))]
        for code in choices
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t.pgettext("booking", "🗣 I need an interpreter"),
                callback_data=CHOOSE_LANGUAGE.encode(topic, "i", about),
            )
        ]
    )
    await show(
        update,
        context,
        t.pgettext(
            "booking",
            "In which language would you like to talk? If you need an interpreter, we will organise one.",
        ),
        InlineKeyboardMarkup([*rows, cancel_row(t)]),
    )


async def choose_language(update: Update, context: BotContext) -> None:
    """Show the days with free times (or the waiting list when there are none)."""
    query = update.callback_query
    fields = CHOOSE_LANGUAGE.decode(query.data if query else None)
    if query is None or fields is None:
        return
    await query.answer()
    await show_days(update, context, *fields)


async def show_days(update: Update, context: BotContext, topic: str, choice: str, about: str) -> None:
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    language, interpreter = _language(choice, viewer.language)
    async with session_scope(context.runtime.sessions) as session:
        free = await slots.free_slots(
            session, context.runtime.policy, context.now(), viewer.person_id, language, interpreter
        )
    days = free_days(free, context.runtime.zone)
    if not days:
        await show(
            update,
            context,
            t.pgettext(
                "booking",
                "Sorry, there is no free time in the next weeks. You can join the waiting list: we will "
                "write to you as soon as a time becomes free.",
            ),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("booking", "📝 Join the waiting list"),
                            callback_data=WAIT.encode(topic, choice),
                        )
                    ],
                    cancel_row(t),
                ]
            ),
        )
        return
    buttons = [
        InlineKeyboardButton(
            day_label(t, day), callback_data=CHOOSE_DAY.encode(topic, choice, day_code(day), about)
        )
        for day in days
    ]
    rows = in_rows(buttons, 3)
    await show(
        update,
        context,
        t.pgettext("booking", "Which day suits you? These days have free times:"),
        InlineKeyboardMarkup([*rows, cancel_row(t)]),
    )


async def choose_day(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = CHOOSE_DAY.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    topic, choice, code, about = fields
    day = day_of(code)
    await query.answer()
    if day is None:
        await show_days(update, context, topic, choice, about)
        return
    await show_times(update, context, topic, choice, day, about)


async def show_times(
    update: Update,
    context: BotContext,
    topic: str,
    choice: str,
    day: date,
    about: str,
    note: str | None = None,
) -> None:
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    language, interpreter = _language(choice, viewer.language)
    async with session_scope(context.runtime.sessions) as session:
        free = await slots.free_slots(
            session, context.runtime.policy, context.now(), viewer.person_id, language, interpreter, day=day
        )
    if not free:
        await show_days(update, context, topic, choice, about)
        return
    buttons = [
        InlineKeyboardButton(
            t.time(slot.starts_at),
            callback_data=CHOOSE_TIME.encode(topic, choice, minute_of(slot.starts_at), about),
        )
        for slot in free
    ]
    rows = in_rows(buttons, 4)
    another_day = InlineKeyboardButton(
        another_day_label(t), callback_data=CHOOSE_LANGUAGE.encode(topic, choice, about)
    )
    text = t.pgettext("booking", "Free times on {date}:", date=t.date(day))
    if note:
        text = f"{note}\n\n{text}"
    await show(update, context, text, InlineKeyboardMarkup([*rows, [another_day], cancel_row(t)]))


async def choose_time(update: Update, context: BotContext) -> None:
    """The summary to confirm, with the advisor who is free then."""
    query = update.callback_query
    fields = CHOOSE_TIME.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    topic, choice, minute, about = fields
    starts_at = moment_of(minute)
    await query.answer()
    t = context.t
    language, interpreter = _language(choice, viewer.language)
    zone = context.runtime.zone
    async with session_scope(context.runtime.sessions) as session:
        free = await slots.free_slots(
            session,
            context.runtime.policy,
            context.now(),
            viewer.person_id,
            language,
            interpreter,
            day=starts_at.astimezone(zone).date(),
        )
        slot = next((slot for slot in free if slot.starts_at == starts_at), None)
        kind = await slots.appointment_kind(session, viewer.person_id)
        advisor = await session.get(Person, slot.advisor_id) if slot else None
        advisor_profile = await advisors.profile(session, slot.advisor_id) if slot else None
    if slot is None:
        await show_times(
            update,
            context,
            topic,
            choice,
            starts_at.astimezone(zone).date(),
            about,
            note=refusal_text(t, "taken", context.runtime.policy.max_open),
        )
        return
    place = (advisor_profile.place if advisor_profile else None) or advisors.default_place(
        context.runtime.municipality
    )
    text = "\n".join(
        [
            t.pgettext("booking", "<b>Please check your appointment:</b>"),
            "",
            summary_text(
                t,
                kind=kind,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                place=place,
                advisor=advisor,
                topic=topic,
                language=language,
                interpreter=slot.interpreter,
            ),
            *(["", interpreter_note(t, language)] if slot.interpreter and not interpreter else []),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("booking", "✅ Book this appointment"),
                    callback_data=CONFIRM.encode(topic, choice, minute, slot.advisor_id, about),
                )
            ],
            [
                InlineKeyboardButton(
                    t.pgettext("booking", "↩ Another time"),
                    callback_data=CHOOSE_DAY.encode(
                        topic, choice, day_code(starts_at.astimezone(zone).date()), about
                    ),
                )
            ],
            cancel_row(t),
        ]
    )
    await show(update, context, text, keyboard)


async def confirm(update: Update, context: BotContext) -> None:
    """Book. Success: the details, a calendar file, and a notice to the advisor."""
    query = update.callback_query
    fields = CONFIRM.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None or update.effective_chat is None:
        return
    topic, choice, minute, advisor_id, about = fields
    starts_at = moment_of(minute)
    t = context.t
    runtime = context.runtime
    language, interpreter = _language(choice, viewer.language)
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
                advisor_id=int(advisor_id),
                starts_at=starts_at,
                topic=topic,
                language=language,
                interpreter=interpreter,
                first_name=(update.effective_user.first_name or "")[:64] if update.effective_user else None,
                offer_id=_about(about),
            )
            appointment_id = appointment.id
        except booking.AlreadyBooked:
            refused = "already_booked"
        except BookingRefused as error:
            refused = error.reason
        except consent.ConsentMissing:
            refused = "consent"
    if refused == "consent":
        await query.answer()
        await start(update, context)
        return
    if refused == "already_booked":
        await query.answer(
            t.pgettext("booking", "You have already booked this appointment."), show_alert=True
        )
        return
    if refused is not None:
        await query.answer()
        day = starts_at.astimezone(runtime.zone).date()
        note = refusal_text(t, refused, runtime.policy.max_open)
        if refused == "limit":
            await show(update, context, note, back_to_menu(t))
        else:
            await show_times(update, context, topic, choice, day, about, note=note)
        return
    await query.answer(t.pgettext("booking", "Booked."))
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
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.pgettext("menu", "🗓 My appointments"), callback_data=MENU.encode("appointments")
                    )
                ]
            ]
        ),
    )
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(calendar_files.appointment_ics(t, view), filename="wegweiser-appointment.ics"),
        caption=t.pgettext("booking", "📎 Add the appointment to your phone's calendar."),
    )
    await notify_advisor(context, appointment_id, "booked")


async def notify_advisor(context: BotContext, appointment_id: int, event: str) -> None:
    """Tell the appointment's advisor what happened, in the advisor's language."""
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        view = await load_view(session, appointment_id, runtime.municipality)
    if view is None or view.advisor is None:
        return
    t = Translator(view.advisor.language or runtime.default_language, runtime.zone)
    await tell(context.bot, runtime.sessions, view.advisor, advisor_notice(t, view, event), context.now())


async def join_waiting_list(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = WAIT.decode(query.data if query else None)
    viewer = context.viewer
    if query is None or fields is None or viewer is None:
        return
    topic, choice = fields
    language, interpreter = _language(choice, viewer.language)
    async with session_scope(context.runtime.sessions) as session:
        agreed = await consent.valid_consent(session, viewer.person_id, Purpose.BOOKING)
        if agreed is not None:
            await waiting_list.join_waiting_list(
                session, viewer.person_id, topic, language, interpreter, context.now()
            )
    if agreed is None:
        await start(update, context)
        return
    t = context.t
    await query.answer()
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
    return [
        CommandHandler("book", start),
        # "menu:book" comes from the main menu (handlers.keyboards).
        CallbackQueryHandler(start, pattern=lambda data: START.matches(data) or data == "menu:book"),
        CallbackQueryHandler(agree, pattern=AGREE.matches),
        CallbackQueryHandler(choose_topic, pattern=CHOOSE_TOPIC.matches),
        CallbackQueryHandler(choose_language, pattern=CHOOSE_LANGUAGE.matches),
        CallbackQueryHandler(choose_day, pattern=CHOOSE_DAY.matches),
        CallbackQueryHandler(choose_time, pattern=CHOOSE_TIME.matches),
        CallbackQueryHandler(confirm, pattern=CONFIRM.matches),
        CallbackQueryHandler(join_waiting_list, pattern=WAIT.matches),
    ]
