"""Admins keep the offer directory current in the bot: list, edit, archive, restore, mark verified,
and a weekly digest of offers that need checking. Every change is recorded with who and when."""

from __future__ import annotations

import html
import logging
from datetime import time, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, JobQueue

from handlers.appointment_texts import tell
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.durations import duration_text
from handlers.keyboards import button_label, in_rows
from handlers.offer_cards import category_label, offer_name, weekly_hours
from handlers.replies import show
from handlers.typed_answers import AnswerHandler
from locales import ENDONYMS, Translator
from storage import offers, pending, people
from storage.db import session_scope
from storage.models import Category, Offer, OfferStatus
from storage.offers import InvalidValue, NotAllowed, OfferUnavailable
from storage.pending import Waiting

log = logging.getLogger(__name__)
PAGE_SIZE = 8
TYPED_FIELDS = ("address", "hours", "phone", "email", "website", "languages", "ends_on")
TEXT_FIELDS = ("name", "summary", "audience", "cost", "details")
CHOICE_FIELDS = ("category", "barrier_free")
WAITING_KIND = "offer_field"

HOME = Action("adm")
LIST = Action("alist", (integer(3),))
CARD = Action("acard", (integer(),))
EDIT = Action("aedit", (integer(),))
FIELD = Action("afield", (integer(), one_of(TYPED_FIELDS + TEXT_FIELDS + CHOICE_FIELDS)))
TEXT_LANGUAGE = Action("alang", (integer(), one_of(TEXT_FIELDS), one_of(tuple(ENDONYMS))))
CHOOSE = Action(
    "aset", (integer(), one_of(CHOICE_FIELDS), one_of((*(c.value for c in Category), "yes", "no")))
)
STATUS = Action("astat", (integer(), one_of(("archive", "restore"))))
VERIFY = Action("aver", (integer(),))
ATTENTION = Action("aatt")


def field_label(t: Translator, field: str) -> str:
    labels = {
        "name": t.pgettext("admin", "Name"),
        "summary": t.pgettext("admin", "Summary"),
        "audience": t.pgettext("admin", "For whom"),
        "cost": t.pgettext("admin", "Cost"),
        "details": t.pgettext("admin", "Long text"),
        "category": t.pgettext("admin", "Topic"),
        "address": t.pgettext("admin", "Address"),
        "hours": t.pgettext("admin", "Opening hours"),
        "phone": t.pgettext("admin", "Phone"),
        "email": t.pgettext("admin", "E-mail"),
        "website": t.pgettext("admin", "Website"),
        "languages": t.pgettext("admin", "Languages spoken"),
        "barrier_free": t.pgettext("admin", "Barrier-free"),
        "ends_on": t.pgettext("admin", "End date"),
    }
    return labels[field]


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


async def _refuse(update: Update, context: BotContext) -> None:
    t = context.t
    text = t.pgettext("admin", "Only admins can change the offer directory.")
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


def _is_admin(context: BotContext) -> bool:
    return context.viewer is not None and context.viewer.role == "admin"


async def home(update: Update, context: BotContext) -> None:
    """/admin: the directory at a glance."""
    if not _is_admin(context):
        await _refuse(update, context)
        return
    if update.callback_query:
        await update.callback_query.answer()
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        everything = await offers.all_offers(session)
        attention = await offers.offers_needing_attention(session, today)
    active = sum(1 for offer in everything if offer.status == OfferStatus.ACTIVE)
    text = t.pgettext(
        "admin",
        "<b>Offer directory</b>\n{active} active, {archived} archived.\n"
        "{stale} not verified for {period}, {ended} ended.",
        period=duration_text(t, offers.STALE_AFTER, months=False),
        active=active,
        archived=len(everything) - active,
        stale=len(attention.stale),
        ended=len(attention.ended),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t.pgettext("admin", "📋 All offers"), callback_data=LIST.encode(0))],
            [
                InlineKeyboardButton(
                    t.pgettext("admin", "⏰ Needs checking"), callback_data=ATTENTION.encode()
                )
            ],
        ]
    )
    await show(update, context, text, keyboard)


def _status_mark(offer: Offer, today_ended: bool) -> str:
    if offer.status == OfferStatus.ARCHIVED:
        return "🗄 "
    return "⏹ " if today_ended else ""


async def offer_list(update: Update, context: BotContext) -> None:
    """Every offer, archived ones too, a page at a time."""
    query = update.callback_query
    fields = LIST.decode(query.data if query else None)
    if query is None or fields is None:
        return
    if not _is_admin(context):
        await _refuse(update, context)
        return
    await query.answer()
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        everything = list(await offers.all_offers(session))
    pages = max(1, -(-len(everything) // PAGE_SIZE))
    page = min(int(fields[0]), pages - 1)
    rows = [
        [
            InlineKeyboardButton(
                _status_mark(offer, offer.ends_on is not None and offer.ends_on < today)
                + button_label(offer_name(offer, t.language)),
                callback_data=CARD.encode(offer.id),
            )
        ]
        for offer in everything[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    navigation = []
    if page > 0:
        navigation.append(InlineKeyboardButton("‹", callback_data=LIST.encode(page - 1)))
    if page + 1 < pages:
        navigation.append(InlineKeyboardButton("›", callback_data=LIST.encode(page + 1)))
    if navigation:
        rows.append(navigation)
    rows.append([InlineKeyboardButton(t.pgettext("admin", "« Overview"), callback_data=HOME.encode())])
    await show(
        update,
        context,
        t.pgettext("admin", "<b>All offers</b> (page {page} of {pages})", page=page + 1, pages=pages),
        InlineKeyboardMarkup(rows),
    )


def admin_card_text(t: Translator, offer: Offer) -> str:
    status = (
        t.pgettext("admin", "archived")
        if offer.status == OfferStatus.ARCHIVED
        else t.pgettext("admin", "active")
    )
    never = t.pgettext("admin", "never")
    lines = [
        f"<b>{html.escape(offer_name(offer, t.language))}</b>",
        t.pgettext("admin", "Status: {status}", status=status),
        t.pgettext("admin", "Topic: {topic}", topic=category_label(t, offer.category)),
        t.pgettext(
            "admin", "Texts in: {languages}", languages=", ".join(text.language for text in offer.texts)
        ),
        t.pgettext(
            "admin",
            "Last verified: {date}",
            date=t.date(offer.last_verified, "medium") if offer.last_verified else never,
        ),
    ]
    if offer.ends_on:
        lines.append(t.pgettext("admin", "Ends on: {date}", date=t.date(offer.ends_on, "medium")))
    if offer.hours:
        lines.append(t.pgettext("admin", "Opening hours: {hours}", hours=weekly_hours(t, offer)))
    for field in ("address", "phone", "email", "website"):
        value = getattr(offer, field)
        if value:
            lines.append(f"{field_label(t, field)}: {html.escape(value)}")
    if offer.example:
        lines.append(t.pgettext("admin", "ℹ Example data"))
    return "\n".join(lines)


def admin_card_keyboard(t: Translator, offer: Offer) -> InlineKeyboardMarkup:
    status_button = (
        InlineKeyboardButton(
            t.pgettext("admin", "♻ Restore"), callback_data=STATUS.encode(offer.id, "restore")
        )
        if offer.status == OfferStatus.ARCHIVED
        else InlineKeyboardButton(
            t.pgettext("admin", "🗄 Archive"), callback_data=STATUS.encode(offer.id, "archive")
        )
    )
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.pgettext("admin", "✏ Edit"), callback_data=EDIT.encode(offer.id)),
                InlineKeyboardButton(
                    t.pgettext("admin", "✅ Mark verified"), callback_data=VERIFY.encode(offer.id)
                ),
            ],
            [status_button],
            [InlineKeyboardButton(t.pgettext("admin", "« All offers"), callback_data=LIST.encode(0))],
        ]
    )


async def _show_admin_card(
    update: Update, context: BotContext, offer_id: int, note: str | None = None
) -> None:
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        try:
            offer = await offers.admin_offer(session, offer_id)
        except OfferUnavailable:
            offer = None
    if offer is None:
        await show(
            update,
            context,
            t.pgettext("admin", "This offer does not exist (any more)."),
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(t.pgettext("admin", "« All offers"), callback_data=LIST.encode(0))]]
            ),
        )
        return
    text = admin_card_text(t, offer)
    if note:
        text = f"{note}\n\n{text}"
    await show(update, context, text, admin_card_keyboard(t, offer))


async def card(update: Update, context: BotContext) -> None:
    """One offer as admins see it, with what they can do."""
    query = update.callback_query
    fields = CARD.decode(query.data if query else None)
    if query is None or fields is None:
        return
    if not _is_admin(context):
        await _refuse(update, context)
        return
    await query.answer()
    await _show_admin_card(update, context, int(fields[0]))


async def edit_menu(update: Update, context: BotContext) -> None:
    """Which field to change."""
    query = update.callback_query
    fields = EDIT.decode(query.data if query else None)
    if query is None or fields is None:
        return
    if not _is_admin(context):
        await _refuse(update, context)
        return
    await query.answer()
    t = context.t
    offer_id = int(fields[0])
    names = (*TEXT_FIELDS, "category", *TYPED_FIELDS, "barrier_free")
    buttons = [
        InlineKeyboardButton(field_label(t, name), callback_data=FIELD.encode(offer_id, name))
        for name in names
    ]
    rows = in_rows(buttons, 2)
    rows.append([InlineKeyboardButton(t.pgettext("admin", "« Back"), callback_data=CARD.encode(offer_id))])
    await show(
        update, context, t.pgettext("admin", "What would you like to change?"), InlineKeyboardMarkup(rows)
    )


async def choose_field(update: Update, context: BotContext) -> None:
    """A field was chosen: offer its choices, its languages, or ask for the new value."""
    query = update.callback_query
    fields = FIELD.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    if not _is_admin(context):
        await _refuse(update, context)
        return
    await query.answer()
    t = context.t
    offer_id, field = int(fields[0]), fields[1]
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
                await _show_admin_card(update, context, offer_id)
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


async def choose_text_language(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = TEXT_LANGUAGE.decode(query.data if query else None)
    if query is None or fields is None:
        return
    if not _is_admin(context):
        await _refuse(update, context)
        return
    await query.answer()
    await _ask_for_value(
        update, context, {"offer_id": int(fields[0]), "field": fields[1], "language": fields[2]}
    )


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


async def _apply(update: Update, context: BotContext, offer_id: int, change) -> None:
    """Run one admin change; storage re-checks the role whatever the button said."""
    assert context.viewer is not None
    t = context.t
    note: str | None = t.pgettext("admin", "✅ Saved.")
    allowed = True
    async with session_scope(context.runtime.sessions) as session:
        try:
            await change(session)
        except NotAllowed:
            allowed = False
        except OfferUnavailable:
            note = None
    if not allowed:
        await _refuse(update, context)
        return
    if update.callback_query:
        await update.callback_query.answer(
            note or t.pgettext("admin", "This offer does not exist (any more).")
        )
    await _show_admin_card(update, context, offer_id, note)


async def set_choice(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = CHOOSE.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    offer_id, field, value = int(fields[0]), fields[1], fields[2]
    if field == "category" and value in ("yes", "no"):
        await query.answer(context.t.pgettext("admin", "This value does not fit this field."))
        return
    telegram_id, now = context.viewer.telegram_id, context.now()
    await _apply(
        update,
        context,
        offer_id,
        lambda session: offers.set_offer_value(session, telegram_id, offer_id, field, value, now),
    )


async def set_status(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = STATUS.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    offer_id = int(fields[0])
    status = OfferStatus.ARCHIVED if fields[1] == "archive" else OfferStatus.ACTIVE
    telegram_id, now = context.viewer.telegram_id, context.now()
    await _apply(
        update,
        context,
        offer_id,
        lambda session: offers.set_offer_status(session, telegram_id, offer_id, status, now),
    )


async def verify(update: Update, context: BotContext) -> None:
    query = update.callback_query
    fields = VERIFY.decode(query.data if query else None)
    if query is None or fields is None or context.viewer is None:
        return
    offer_id = int(fields[0])
    telegram_id, now = context.viewer.telegram_id, context.now()
    today = now.astimezone(context.runtime.zone).date()
    await _apply(
        update,
        context,
        offer_id,
        lambda session: offers.mark_verified(session, telegram_id, offer_id, today, now),
    )


def attention_text(t: Translator, attention: offers.Freshness) -> str:
    if attention.empty:
        return t.pgettext("admin", "All offers are up to date. 🎉")
    parts = []
    if attention.stale:
        names = "\n".join(f"• {html.escape(offer_name(offer, t.language))}" for offer in attention.stale[:20])
        parts.append(
            t.npgettext(
                "admin",
                "<b>{n} offer not verified for {period}:</b>",
                "<b>{n} offers not verified for {period}:</b>",
                len(attention.stale),
                period=duration_text(t, offers.STALE_AFTER, months=False),
            )
            + "\n"
            + names
        )
    if attention.ended:
        names = "\n".join(f"• {html.escape(offer_name(offer, t.language))}" for offer in attention.ended[:20])
        parts.append(
            t.npgettext(
                "admin",
                "<b>{n} offer has ended</b> (no longer shown to refugees):",
                "<b>{n} offers have ended</b> (no longer shown to refugees):",
                len(attention.ended),
            )
            + "\n"
            + names
        )
    return "\n\n".join(parts)


def attention_keyboard(t: Translator, attention: offers.Freshness) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                button_label(offer_name(offer, t.language)), callback_data=CARD.encode(offer.id)
            )
        ]
        for offer in (attention.stale + attention.ended)[:10]
    ]
    rows.append([InlineKeyboardButton(t.pgettext("admin", "« Overview"), callback_data=HOME.encode())])
    return InlineKeyboardMarkup(rows)


async def needs_attention(update: Update, context: BotContext) -> None:
    if not _is_admin(context):
        await _refuse(update, context)
        return
    if update.callback_query:
        await update.callback_query.answer()
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        attention = await offers.offers_needing_attention(session, today)
    await show(
        update, context, attention_text(context.t, attention), attention_keyboard(context.t, attention)
    )


async def send_freshness_digest(context: BotContext) -> None:
    """Weekly job: tell every admin which offers need checking (nothing when all are fresh)."""
    runtime = context.runtime
    today = context.now().astimezone(runtime.zone).date()
    async with session_scope(runtime.sessions) as session:
        attention = await offers.offers_needing_attention(session, today)
        admins = [
            person
            for person in await people.list_staff(session)
            if person.role == "admin" and person.blocked_at is None
        ]
    if attention.empty:
        return
    for admin in admins:
        t = Translator(admin.language or runtime.default_language, runtime.zone)
        text = (
            t.pgettext("admin", "<b>Weekly check of the offer directory</b>")
            + "\n\n"
            + attention_text(t, attention)
        )
        # Through ``tell``: an admin who has not started the bot yet gets the digest when they do.
        keyboard = attention_keyboard(t, attention)
        await tell(context.bot, runtime.sessions, admin, text, context.now(), reply_markup=keyboard)


def schedule_jobs(job_queue: JobQueue, zone: tzinfo) -> None:
    """The weekly digest, Mondays 08:00 local time (PTB counts days from 0 = Sunday)."""
    job_queue.run_daily(
        send_freshness_digest,
        time=time(8, 0, tzinfo=zone),
        days=(1,),
        name="offer-freshness-digest",
        job_kwargs={"id": "offer-freshness-digest", "replace_existing": True},
    )


TYPED_ANSWERS: dict[str, AnswerHandler] = {WAITING_KIND: receive_value}


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("admin", home),
        CallbackQueryHandler(home, pattern=HOME.matches),
        CallbackQueryHandler(offer_list, pattern=LIST.matches),
        CallbackQueryHandler(card, pattern=CARD.matches),
        CallbackQueryHandler(edit_menu, pattern=EDIT.matches),
        CallbackQueryHandler(choose_field, pattern=FIELD.matches),
        CallbackQueryHandler(choose_text_language, pattern=TEXT_LANGUAGE.matches),
        CallbackQueryHandler(set_choice, pattern=CHOOSE.matches),
        CallbackQueryHandler(set_status, pattern=STATUS.matches),
        CallbackQueryHandler(verify, pattern=VERIFY.matches),
        CallbackQueryHandler(needs_attention, pattern=ATTENTION.matches),
    ]
