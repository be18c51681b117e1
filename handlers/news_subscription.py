"""Asking for news: what it means (its own consent, withdrawn with one tap under /privacy), and
the consent itself. Reached from /news and from "Privacy and my data"."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.buttons import Answer, Fields
from handlers.callbacks import Action
from handlers.context import BotContext
from handlers.privacy_texts import NEWS_OFFER, OVERVIEW, back_to_privacy
from handlers.replies import show
from locales import Translator
from storage import consent
from storage.consent import Purpose
from storage.db import session_scope

AGREE = Action("newsyes")


def news_consent_text(t: Translator, municipality: str) -> str:
    return t.pgettext(
        "news",
        "<b>📰 News from the integration management</b>\n\n"
        "The integration management in {municipality} can send you news now and then: a new "
        "language course, changed office hours, an event. Wegweiser uses only your Telegram account "
        "and your language for this.\n\n"
        "This is voluntary. You can stop the news at any time with one tap under “Privacy and my "
        "data”.",
        municipality=municipality,
    )


async def offer_news(update: Update, context: BotContext, _fields: Fields = ()) -> Answer | None:
    """/news or the privacy page's "Get news": what news means, and the question."""
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        subscribed = await consent.valid_consent(session, viewer.person_id, Purpose.NEWS) is not None
    if subscribed:
        await show(
            update,
            context,
            t.pgettext("news", "✅ You already get news. You can stop it under “Privacy and my data”."),
            back_to_privacy(t),
        )
        return None
    await show(
        update,
        context,
        news_consent_text(t, context.runtime.municipality),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.pgettext("news", "✅ Yes, send me news"), callback_data=AGREE.encode()
                    )
                ],
                [
                    InlineKeyboardButton(
                        t.pgettext("news", "✖ No, thank you"), callback_data=OVERVIEW.encode()
                    )
                ],
            ]
        ),
    )
    return None


async def agree(update: Update, context: BotContext, _fields: Fields) -> Answer | None:
    """The consent to news, recorded with its text version and language."""
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        await consent.give_consent(session, viewer.person_id, Purpose.NEWS, t.language, context.now())
    await show(
        update,
        context,
        t.pgettext(
            "news",
            "✅ Thank you. You will get news from the integration management here. To stop it, tap "
            "“Stop the news” under “Privacy and my data”.",
        ),
        back_to_privacy(t),
    )
    return Answer(t.pgettext("news", "News switched on"))


def handlers() -> list[BaseHandler]:
    return [
        buttons.command("news", offer_news),
        buttons.button(NEWS_OFFER, offer_news),
        buttons.button(AGREE, agree),
    ]
