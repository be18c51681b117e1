"""Admins keep the offer directory current in the bot: list, archive, restore, mark verified, and
a weekly digest of offers that need checking. Editing an offer's fields is ``handlers.admin_edit``.
Every change is recorded with who and when."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from datetime import time, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, JobQueue

from handlers import buttons
from handlers.appointment_texts import tell
from handlers.buttons import Answer, Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.durations import duration_text
from handlers.keyboards import button_label
from handlers.offer_cards import category_label, offer_name, weekly_hours
from handlers.replies import show
from locales import ENDONYMS, Translator
from storage import offers, people
from storage.db import session_scope
from storage.models import Category, Offer, OfferStatus, Role
from storage.offers import NotAllowed, OfferUnavailable

log = logging.getLogger(__name__)
ADMINS = (Role.ADMIN,)
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


def refusal(t: Translator) -> str:
    """What everyone but admins hears."""
    return t.pgettext("admin", "Only admins can change the offer directory.")


def admins_button(action: Action, step: buttons.Step) -> BaseHandler:
    """An admins' button: everyone else hears the refusal; storage re-checks anyway."""
    return buttons.button(action, step, roles=ADMINS, refusal=refusal)


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


async def home(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/admin: the directory at a glance."""
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


async def offer_list(update: Update, context: BotContext, fields: Fields) -> None:
    """Every offer, archived ones too, a page at a time."""
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        everything = list(await offers.all_offers(session))
    pages = max(1, -(-len(everything) // PAGE_SIZE))
    page = min(fields[0], pages - 1)
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


async def show_admin_card(
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


async def card(update: Update, context: BotContext, fields: Fields) -> None:
    """One offer as admins see it, with what they can do."""
    await show_admin_card(update, context, fields[0])


async def apply_change(
    update: Update, context: BotContext, offer_id: int, change: Callable[[AsyncSession], Awaitable[object]]
) -> Answer:
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
        raise Refused(refusal(t))
    await show_admin_card(update, context, offer_id, note)
    return Answer(note or t.pgettext("admin", "This offer does not exist (any more)."))


async def set_status(update: Update, context: BotContext, fields: Fields) -> Answer:
    """Archive or restore an offer."""
    assert context.viewer is not None
    offer_id = fields[0]
    status = OfferStatus.ARCHIVED if fields[1] == "archive" else OfferStatus.ACTIVE
    telegram_id, now = context.viewer.telegram_id, context.now()
    return await apply_change(
        update,
        context,
        offer_id,
        lambda session: offers.set_offer_status(session, telegram_id, offer_id, status, now),
    )


async def verify(update: Update, context: BotContext, fields: Fields) -> Answer:
    """Mark an offer as checked today."""
    assert context.viewer is not None
    offer_id = fields[0]
    telegram_id, now = context.viewer.telegram_id, context.now()
    today = now.astimezone(context.runtime.zone).date()
    return await apply_change(
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


async def needs_attention(update: Update, context: BotContext, _fields: Fields) -> None:
    """The offers that need checking, each a button to its card."""
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


def handlers() -> list[BaseHandler]:
    return [
        buttons.command("admin", home, roles=ADMINS, refusal=refusal),
        admins_button(HOME, home),
        admins_button(LIST, offer_list),
        admins_button(CARD, card),
        admins_button(STATUS, set_status),
        admins_button(VERIFY, verify),
        admins_button(ATTENTION, needs_attention),
    ]
