"""Offers and clubs: browse categories, page through a category, read an offer, search by text."""

from __future__ import annotations

import html
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from handlers import booking, buttons, referrals
from handlers.buttons import Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.keyboards import MENU
from handlers.offer_cards import (
    card_text,
    category_label,
    offer_button_label,
    offer_name,
    split_long_text,
    with_untranslated_note,
)
from handlers.replies import show
from locales import Translator
from storage import offers
from storage.db import read_scope, session_scope
from storage.models import Category, Offer
from storage.offers import OfferUnavailable
from storage.search import query_words, shown_query

CATEGORY_CODES = tuple(category.value for category in Category)
CATEGORIES = Action("cats")
PAGE = Action("list", (one_of(CATEGORY_CODES), integer(3)))
# The card remembers where it was opened from: a category page, or "s" for search results.
CARD = Action("offer", (integer(), r"s|0|[1-9][0-9]{0,2}"))
MAP = Action("map", (integer(),))
MORE = Action("more", (integer(),))
BOOK_ABOUT = booking.START  # "book:<offer id>": booking a consultation about this offer
FROM_SEARCH = "s"


def local_today(context: BotContext) -> date:
    return context.now().astimezone(context.runtime.zone).date()


def categories_keyboard(t: Translator, counts: dict[str, int]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                f"{category_label(t, code)} ({counts[code]})", callback_data=PAGE.encode(code, 0)
            )
        ]
        for code in CATEGORY_CODES
        if counts[code]
    ]
    rows.append([InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))])
    return InlineKeyboardMarkup(rows)


async def show_categories(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """The category menu, each with its number of offers."""
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        counts = await offers.category_counts(session, local_today(context))
    text = t.pgettext(
        "offers",
        "<b>Offers and clubs in {municipality}</b>\n\n"
        "Choose a topic, or simply type what you are looking for (for example “German course”).",
        municipality=context.runtime.municipality,
    )
    await show(update, context, text, categories_keyboard(t, counts))


async def show_page(update: Update, context: BotContext, fields: Fields) -> None:
    """One page of a category."""
    category, page = fields[0], fields[1]
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        found, pages = await offers.offers_in_category(
            session, category, local_today(context), page, t.language
        )
    page = min(page, pages - 1)
    rows = [
        [InlineKeyboardButton(offer_button_label(t, offer), callback_data=CARD.encode(offer.id, page))]
        for offer in found
    ]
    navigation = []
    if page > 0:
        navigation.append(
            InlineKeyboardButton(
                "‹ " + t.pgettext("offers", "Previous"), callback_data=PAGE.encode(category, page - 1)
            )
        )
    if page + 1 < pages:
        navigation.append(
            InlineKeyboardButton(
                t.pgettext("offers", "Next") + " ›", callback_data=PAGE.encode(category, page + 1)
            )
        )
    if navigation:
        rows.append(navigation)
    rows.append([InlineKeyboardButton(t.pgettext("offers", "« Topics"), callback_data=CATEGORIES.encode())])
    if found:
        text = t.pgettext(
            "offers",
            "<b>{category}</b>\nPage {page} of {pages}. Tap an offer to read more.",
            category=category_label(t, category),
            page=page + 1,
            pages=pages,
        )
        text += with_untranslated_note(t, found)
    else:
        text = t.pgettext(
            "offers",
            "<b>{category}</b>\nThere are no offers in this topic at the moment.",
            category=category_label(t, category),
        )
    await show(update, context, text, InlineKeyboardMarkup(rows))


def card_keyboard(t: Translator, offer: Offer, back: str, shortened: bool) -> InlineKeyboardMarkup:
    rows = []
    if offer.latitude is not None and offer.longitude is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    t.pgettext("offers", "📍 Show on the map"), callback_data=MAP.encode(offer.id)
                )
            ]
        )
    if offer.website:
        rows.append([InlineKeyboardButton(t.pgettext("offers", "🌐 Website"), url=offer.website)])
    if shortened:
        rows.append(
            [
                InlineKeyboardButton(
                    t.pgettext("offers", "📖 Read everything"), callback_data=MORE.encode(offer.id)
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                t.pgettext("offers", "📅 Ask for a consultation about this"),
                callback_data=BOOK_ABOUT.encode(offer.id),
            )
        ]
    )
    rows.append([referrals.ask_button(t, offer.id)])
    if back == FROM_SEARCH:
        rows.append(
            [InlineKeyboardButton(t.pgettext("offers", "« Topics"), callback_data=CATEGORIES.encode())]
        )
    else:
        rows.append(
            [
                InlineKeyboardButton(
                    t.pgettext("offers", "« Back to the list"),
                    callback_data=PAGE.encode(offer.category, int(back)),
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


async def _visible_offer(context: BotContext, offer_id: int) -> Offer:
    """The offer if people may see it; otherwise the person is told (:class:`Refused`)."""
    async with session_scope(context.runtime.sessions) as session:
        try:
            return await offers.offer_for_people(session, offer_id, local_today(context))
        except OfferUnavailable:
            pass
    raise Refused(context.t.pgettext("offers", "This offer is no longer available."))


async def show_card(update: Update, context: BotContext, fields: Fields) -> None:
    """An offer's card."""
    offer = await _visible_offer(context, fields[0])
    text, shortened = card_text(context.t, offer, context.now())
    await show(update, context, text, card_keyboard(context.t, offer, fields[1], shortened))


async def send_map(update: Update, context: BotContext, fields: Fields) -> None:
    """The offer's place as a Telegram venue."""
    offer = await _visible_offer(context, fields[0])
    if offer.latitude is None or offer.longitude is None or update.effective_chat is None:
        return
    name = offer_name(offer, context.t.language)
    await context.bot.send_venue(
        update.effective_chat.id,
        offer.latitude,
        offer.longitude,
        title=name[:100],
        address=(offer.address or name)[:100],
    )


async def send_full_text(update: Update, context: BotContext, fields: Fields) -> None:
    """The offer's whole long text, in as many messages as it needs."""
    offer = await _visible_offer(context, fields[0])
    shown = offers.text_in(offer, context.t.language)
    if shown is None or not shown.text.details or update.effective_chat is None:
        return
    parts = split_long_text(shown.text.details)
    for number, part in enumerate(parts, start=1):
        heading = f"<b>{html.escape(shown.text.name)}</b> ({number}/{len(parts)})\n\n"
        await context.bot.send_message(update.effective_chat.id, heading + html.escape(part))


async def search(update: Update, context: BotContext) -> None:
    """Typed text (or /search TEXT): offers that match, in the person's language."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = message.text
    if text.startswith("/"):
        text = " ".join(context.args or [])
    t = context.t
    if not query_words(text):
        await message.reply_text(
            t.pgettext(
                "offers",
                "What are you looking for? Type a word, for example “German course”, “doctor” or “football”.",
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("offers", "🗂 Browse all topics"), callback_data=CATEGORIES.encode()
                        )
                    ]
                ]
            ),
        )
        return
    # Only reads: a search (and the first search's index build) never holds up anyone's writes.
    async with read_scope(context.runtime.sessions) as session:
        found = await offers.search_offers(session, text, local_today(context))
    shown = shown_query(text)
    if not found:
        await message.reply_text(
            t.pgettext(
                "offers",
                "I found no offer for “{query}”. Try another word, browse the topics, or ask the "
                "integration management in a consultation.",
                query=shown,
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("offers", "🗂 Browse all topics"), callback_data=CATEGORIES.encode()
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t.pgettext("menu", "📅 Book a consultation"), callback_data=MENU.encode("book")
                        )
                    ],
                ]
            ),
        )
        return
    rows = [
        [InlineKeyboardButton(offer_button_label(t, offer), callback_data=CARD.encode(offer.id, FROM_SEARCH))]
        for offer in found
    ]
    rows.append(
        [InlineKeyboardButton(t.pgettext("offers", "🗂 Browse all topics"), callback_data=CATEGORIES.encode())]
    )
    await message.reply_text(
        t.npgettext(
            "offers",
            "I found {n} offer for “{query}”:",
            "I found {n} offers for “{query}”:",
            len(found),
            query=shown,
        )
        + with_untranslated_note(t, found),
        reply_markup=InlineKeyboardMarkup(rows),
    )


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("search", search),
        buttons.command("offers", show_categories),
        buttons.button(CATEGORIES, show_categories),
        buttons.button(PAGE, show_page),
        buttons.button(CARD, show_card),
        buttons.button(MAP, send_map),
        buttons.button(MORE, send_full_text),
    ]
