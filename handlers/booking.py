"""Booking a consultation: consent (once), topic, language or interpreter, day, time, summary.
The last step, confirming, is ``handlers.booking_confirm``.

Every step's button carries where the person is (topic, language, the offer it is about, the time),
so a restart between two taps loses nothing; confirming re-checks everything in ``storage``.
"""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import summary_text, topic_label
from handlers.buttons import Answer, Fields
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.days import another_day_label, day_code, day_label, day_of, free_days, minute_of, moment_of
from handlers.durations import duration_text
from handlers.keyboards import MENU, back_to_menu, in_rows
from handlers.replies import show
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator
from storage import advisors, booking, consent, slots
from storage.booking import TOPICS
from storage.consent import Purpose
from storage.db import session_scope
from storage.models import Person

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


def language_of(choice: str, viewer_language: str) -> tuple[str, bool]:
    """The language code and whether an interpreter is needed, from a language button."""
    return (viewer_language, True) if choice == "i" else (choice, False)


def offer_about(value: str) -> int | None:
    return None if value == "-" else int(value)


def cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.pgettext("booking", "✖ Stop booking"), callback_data=MENU.encode("home"))]


def refusal_text(t: Translator, reason: str, max_open: int) -> str:
    """Why a booking step did not work, in the person's language."""
    if reason == "too_soon":
        return t.pgettext(
            "booking",
            "This time is now too soon to book online. Please choose a later one.",
        )
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


def to_my_appointments(t: Translator) -> InlineKeyboardMarkup:
    """One button: "My appointments"."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.pgettext("menu", "🗓 My appointments"), callback_data=MENU.encode("appointments")
                )
            ]
        ]
    )


async def show_limit(update: Update, context: BotContext) -> None:
    """The one "you have reached the limit" screen, wherever a booking meets the limit."""
    t = context.t
    await show(
        update, context, refusal_text(t, "limit", context.runtime.policy.max_open), to_my_appointments(t)
    )


# ---- steps -----------------------------------------------------------------------------------


async def start(update: Update, context: BotContext, fields: Fields = ()) -> None:
    """/book, the menu button, or "ask for a consultation" on an offer card."""
    await begin(update, context, fields[0] if fields else "-")


async def begin(update: Update, context: BotContext, about: str, note: str | None = None) -> None:
    """The limit screen, the consent question (once), or the first question; ``note`` says why the
    person is (back) here."""
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        agreed = await consent.valid_consent(session, viewer.person_id, Purpose.BOOKING)
        open_ones = await booking.open_appointments(session, viewer.person_id, context.now())
    if len(open_ones) >= context.runtime.policy.max_open:
        await show_limit(update, context)
        return
    if agreed is None:
        text = consent_text(t, context.runtime.municipality, context.runtime.retention)
        await show(
            update,
            context,
            f"{note}\n\n{text}" if note else text,
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


def consent_missing_text(t: Translator) -> str:
    """Why someone who tapped an older booking button is asked for their consent again."""
    return t.pgettext(
        "booking",
        "Nothing was booked: your consent to booking is not in force (any more). "
        "To book, please agree below.",
    )


async def agree(update: Update, context: BotContext, fields: Fields) -> Answer | None:
    """The answer to the consent question: yes (remembered, then the first question) or no."""
    viewer = context.viewer
    assert viewer is not None
    answer, about = fields
    t = context.t
    if answer == "no":
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
        return None
    async with session_scope(context.runtime.sessions) as session:
        await consent.give_booking_consent(session, viewer.person_id, viewer.language, context.now())
    await ask_topic(update, context, about)
    return Answer(t.pgettext("booking", "Thank you."))


async def ask_topic(update: Update, context: BotContext, about: str) -> None:
    t = context.t
    topic_buttons = [
        InlineKeyboardButton(topic_label(t, topic), callback_data=CHOOSE_TOPIC.encode(topic, about))
        for topic in TOPICS
    ]
    await show(
        update,
        context,
        t.pgettext("booking", "<b>Book a consultation</b>\n\nWhat would you like to talk about?"),
        InlineKeyboardMarkup([*in_rows(topic_buttons, 2), cancel_row(t)]),
    )


async def choose_topic(update: Update, context: BotContext, fields: Fields) -> None:
    """Which language to talk in (or an interpreter)."""
    assert context.viewer is not None
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


async def choose_language(update: Update, context: BotContext, fields: Fields) -> None:
    """Show the days with free times (or the waiting list when there are none)."""
    topic, choice, about = fields
    await show_days(update, context, topic, choice, about)


async def free_times(context: BotContext, choice: str, day: date | None = None) -> list[slots.Slot]:
    """The times the viewer can book in the chosen language (on ``day``, or in the whole window)."""
    viewer = context.viewer
    assert viewer is not None
    language, interpreter = language_of(choice, viewer.language)
    async with session_scope(context.runtime.sessions) as session:
        return await slots.free_slots(
            session, context.runtime.policy, context.now(), viewer.person_id, language, interpreter, day=day
        )


async def show_days(
    update: Update, context: BotContext, topic: str, choice: str, about: str, note: str | None = None
) -> None:
    """The days with free times; ``note`` says first why the person is back here."""
    t = context.t
    days = free_days(await free_times(context, choice), context.runtime.zone)
    if not days:
        text = t.pgettext(
            "booking",
            "Sorry, there is no free time in the next weeks. You can join the waiting list: we will "
            "write to you as soon as a time becomes free.",
        )
        keyboard = [
            [
                InlineKeyboardButton(
                    t.pgettext("booking", "📝 Join the waiting list"),
                    callback_data=WAIT.encode(topic, choice),
                )
            ],
            cancel_row(t),
        ]
    else:
        text = t.pgettext("booking", "Which day suits you? These days have free times:")
        day_buttons = [
            InlineKeyboardButton(
                day_label(t, day), callback_data=CHOOSE_DAY.encode(topic, choice, day_code(day), about)
            )
            for day in days
        ]
        keyboard = [*in_rows(day_buttons, 3), cancel_row(t)]
    await show(update, context, f"{note}\n\n{text}" if note else text, InlineKeyboardMarkup(keyboard))


async def choose_day(update: Update, context: BotContext, fields: Fields) -> None:
    """The free times of the chosen day."""
    topic, choice, code, about = fields
    day = day_of(code)
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
    """The free times of a day; when none are left, the days again, saying why (``note``)."""
    t = context.t
    free = await free_times(context, choice, day)
    if not free:
        why = note or t.pgettext("booking", "Sorry, there is no free time left on {date}.", date=t.date(day))
        await show_days(update, context, topic, choice, about, note=why)
        return
    time_buttons = [
        InlineKeyboardButton(
            t.time(slot.starts_at),
            callback_data=CHOOSE_TIME.encode(topic, choice, minute_of(slot.starts_at), about),
        )
        for slot in free
    ]
    another_day = InlineKeyboardButton(
        another_day_label(t), callback_data=CHOOSE_LANGUAGE.encode(topic, choice, about)
    )
    text = t.pgettext("booking", "Free times on {date}:", date=t.date(day))
    if note:
        text = f"{note}\n\n{text}"
    keyboard = [*in_rows(time_buttons, 4), [another_day], cancel_row(t)]
    await show(update, context, text, InlineKeyboardMarkup(keyboard))


async def choose_time(update: Update, context: BotContext, fields: Fields) -> None:
    """The summary to confirm, with the advisor who is free then."""
    viewer = context.viewer
    assert viewer is not None
    topic, choice, minute, about = fields
    starts_at = moment_of(minute)
    t = context.t
    language, interpreter = language_of(choice, viewer.language)
    zone = context.runtime.zone
    day = starts_at.astimezone(zone).date()
    async with session_scope(context.runtime.sessions) as session:
        free = await slots.free_slots(
            session, context.runtime.policy, context.now(), viewer.person_id, language, interpreter, day=day
        )
        slot = next((slot for slot in free if slot.starts_at == starts_at), None)
        kind = await slots.appointment_kind(session, viewer.person_id)
        advisor = await session.get(Person, slot.advisor_id) if slot else None
        advisor_profile = await advisors.profile(session, slot.advisor_id) if slot else None
    if slot is None:
        note = refusal_text(t, "taken", context.runtime.policy.max_open)
        await show_times(update, context, topic, choice, day, about, note=note)
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
                    callback_data=CHOOSE_DAY.encode(topic, choice, day_code(day), about),
                )
            ],
            cancel_row(t),
        ]
    )
    await show(update, context, text, keyboard)


def handlers() -> list[BaseHandler]:
    return [
        buttons.command("book", start),
        buttons.button(START, start),
        buttons.button(AGREE, agree),
        buttons.button(CHOOSE_TOPIC, choose_topic),
        buttons.button(CHOOSE_LANGUAGE, choose_language),
        buttons.button(CHOOSE_DAY, choose_day),
        buttons.button(CHOOSE_TIME, choose_time),
    ]
