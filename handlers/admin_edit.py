"""Admins edit an offer's fields in the bot: choose a field (and for texts, a language), then tap a
choice or type the new value (the bot waits for it persistently, see ``storage.pending``)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers.admin import (
    CARD,
    CHOOSE,
    EDIT,
    FIELD,
    TEXT_FIELDS,
    TEXT_LANGUAGE,
    TYPED_FIELDS,
    WAITING_KIND,
    admins_button,
    apply_change,
    field_label,
    show_admin_card,
)
from handlers.buttons import Answer, Fields
from handlers.context import BotContext
from handlers.keyboards import in_rows
from handlers.offer_cards import category_label
from handlers.replies import show
from handlers.typed_answers import AnswerHandler
from locales import ENDONYMS, Translator
from storage import offers, pending
from storage.db import session_scope
from storage.models import Category
from storage.offers import InvalidValue, NotAllowed, OfferUnavailable
from storage.pending import Waiting


def invalid_value_text(t: Translator, error: InvalidValue) -> str:
    """Why a typed value was not accepted, in the admin's language."""
    reasons = {
        "empty": t.pgettext("admin", "This field must not be empty."),
        "too_long": t.pgettext(
            "admin", "This is too long: at most {limit} characters.", limit=error.limit or 0
        ),
        "hours": t.pgettext(
            "admin", "Please write opening hours like this: mon 09:00-12:00, 14:00-16:00; thu 17:00-19:00"
        ),
        "phone": t.pgettext("admin", "Please write a phone number like this: +49 7150 123456"),
        "email": t.pgettext("admin", "Please write an e-mail address like this: name@example.org"),
        "website": t.pgettext("admin", "Please write a web address starting with https://"),
        "languages": t.pgettext(
            "admin", "Please write language codes separated by commas, like this: de, en, ar"
        ),
        "date": t.pgettext("admin", "Please write a date like this: 2026-12-31"),
    }
    return reasons.get(error.reason, t.pgettext("admin", "This value does not fit this field."))


async def edit_menu(update: Update, context: BotContext, fields: Fields) -> None:
    """Which field to change."""
    t = context.t
    offer_id = fields[0]
    names = (*TEXT_FIELDS, "category", *TYPED_FIELDS, "barrier_free")
    field_buttons = [
        InlineKeyboardButton(field_label(t, name), callback_data=FIELD.encode(offer_id, name))
        for name in names
    ]
    rows = in_rows(field_buttons, 2)
    rows.append([InlineKeyboardButton(t.pgettext("admin", "« Back"), callback_data=CARD.encode(offer_id))])
    await show(
        update, context, t.pgettext("admin", "What would you like to change?"), InlineKeyboardMarkup(rows)
    )


async def choose_field(update: Update, context: BotContext, fields: Fields) -> None:
    """A field was chosen: offer its choices, its languages, or ask for the new value."""
    t = context.t
    offer_id, field = fields[0], fields[1]
    back = [InlineKeyboardButton(t.pgettext("admin", "« Back"), callback_data=EDIT.encode(offer_id))]
    if field == "category":
        rows = [
            [
                InlineKeyboardButton(
                    category_label(t, c.value), callback_data=CHOOSE.encode(offer_id, field, c.value)
                )
            ]
            for c in Category
        ]
        await show(
            update, context, t.pgettext("admin", "Choose the topic:"), InlineKeyboardMarkup([*rows, back])
        )
        return
    if field == "barrier_free":
        rows = [
            [
                InlineKeyboardButton(
                    t.pgettext("admin", "Yes"), callback_data=CHOOSE.encode(offer_id, field, "yes")
                ),
                InlineKeyboardButton(
                    t.pgettext("admin", "No"), callback_data=CHOOSE.encode(offer_id, field, "no")
                ),
            ]
        ]
        await show(
            update,
            context,
            t.pgettext("admin", "Is the place barrier-free?"),
            InlineKeyboardMarkup([*rows, back]),
        )
        return
    if field in TEXT_FIELDS:
        async with session_scope(context.runtime.sessions) as session:
            try:
                offer = await offers.admin_offer(session, offer_id)
            except OfferUnavailable:
                await show_admin_card(update, context, offer_id)
                return
        rows = [
            [
                InlineKeyboardButton(
                    t.language_name(text.language),
                    callback_data=TEXT_LANGUAGE.encode(offer_id, field, text.language),
                )
            ]
            for text in offer.texts
            if text.language in ENDONYMS
        ]
        await show(
            update,
            context,
            t.pgettext("admin", "In which language? (Add new languages with a directory file.)"),
            InlineKeyboardMarkup([*rows, back]),
        )
        return
    await _ask_for_value(update, context, {"offer_id": offer_id, "field": field})


async def choose_text_language(update: Update, context: BotContext, fields: Fields) -> None:
    """A text field's language was chosen: ask for the new text."""
    await _ask_for_value(update, context, {"offer_id": fields[0], "field": fields[1], "language": fields[2]})


async def _ask_for_value(update: Update, context: BotContext, payload: dict) -> None:
    assert context.viewer is not None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        await pending.wait_for_text(session, context.viewer.person_id, WAITING_KIND, payload, context.now())
    hint = {
        "hours": t.pgettext("admin", "Example: mon 09:00-12:00, 14:00-16:00; thu 17:00-19:00"),
        "languages": t.pgettext("admin", "Example: de, en, ar"),
        "ends_on": t.pgettext("admin", "Example: 2026-12-31"),
    }.get(payload["field"], "")
    text = t.pgettext(
        "admin",
        "Please send the new value for “{field}”. Send a single - to clear it. "
        "/cancel stops without a change.",
        field=field_label(t, payload["field"]),
    )
    await show(update, context, f"{text}\n{hint}".strip(), None)


async def receive_value(update: Update, context: BotContext, waiting: Waiting) -> None:
    """The typed new value: save it, or explain what is wrong and keep waiting."""
    message = update.effective_message
    if message is None or message.text is None or context.viewer is None:
        return
    t = context.t
    payload = waiting.payload
    value = "" if message.text.strip() == "-" else message.text
    note = t.pgettext("admin", "✅ Saved.")
    rejected: InvalidValue | None = None
    async with session_scope(context.runtime.sessions) as session:
        try:
            if "language" in payload:
                await offers.set_offer_text(
                    session,
                    context.viewer.telegram_id,
                    payload["offer_id"],
                    payload["language"],
                    payload["field"],
                    value,
                    context.now(),
                )
            else:
                await offers.set_offer_value(
                    session,
                    context.viewer.telegram_id,
                    payload["offer_id"],
                    payload["field"],
                    value,
                    context.now(),
                )
            await pending.stop_waiting(session, context.viewer.person_id)
        except InvalidValue as error:
            rejected = error
        except (NotAllowed, OfferUnavailable):
            await pending.stop_waiting(session, context.viewer.person_id)
            note = t.pgettext("admin", "Not saved: the offer is gone or you are no longer an admin.")
    if rejected is not None:
        await message.reply_text(
            t.pgettext(
                "admin",
                "Not saved. {reason}\nPlease try again, or /cancel.",
                reason=invalid_value_text(t, rejected),
            )
        )
        return
    back = InlineKeyboardButton(
        t.pgettext("admin", "« Back to the offer"), callback_data=CARD.encode(payload["offer_id"])
    )
    await message.reply_text(note, reply_markup=InlineKeyboardMarkup([[back]]))


async def set_choice(update: Update, context: BotContext, fields: Fields) -> Answer:
    """A tapped choice (topic, barrier-free): saved."""
    assert context.viewer is not None
    offer_id, field, value = fields[0], fields[1], fields[2]
    if field == "category" and value in ("yes", "no"):
        return Answer(context.t.pgettext("admin", "This value does not fit this field."))
    telegram_id, now = context.viewer.telegram_id, context.now()
    return await apply_change(
        update,
        context,
        offer_id,
        lambda session: offers.set_offer_value(session, telegram_id, offer_id, field, value, now),
    )


TYPED_ANSWERS: dict[str, AnswerHandler] = {WAITING_KIND: receive_value}


def handlers() -> list[BaseHandler]:
    return [
        admins_button(EDIT, edit_menu),
        admins_button(FIELD, choose_field),
        admins_button(TEXT_LANGUAGE, choose_text_language),
        admins_button(CHOOSE, set_choice),
    ]
