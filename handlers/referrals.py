"""Asking for help with an offer: with the person's consent to share, the request becomes a
referral on their case and the advisor is told (case number and offer only)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import tell
from handlers.buttons import Fields, Refused
from handlers.callbacks import Action, integer, one_of
from handlers.context import BotContext
from handlers.keyboards import back_to_menu
from handlers.offer_cards import offer_name
from handlers.replies import show
from locales import Translator
from storage import cases, consent, offers
from storage.consent import Purpose
from storage.db import session_scope
from storage.offers import OfferUnavailable

ASK = Action("ref", (integer(),))
AGREE = Action("refok", (integer(), one_of(("yes", "no"))))


def ask_button(t: Translator, offer_id: int) -> InlineKeyboardButton:
    """The offer card's button for asking the integration management for help with the offer."""
    return InlineKeyboardButton(
        t.pgettext("referrals", "🤝 Ask for help with this offer"), callback_data=ASK.encode(offer_id)
    )


async def ask(update: Update, context: BotContext, fields: Fields) -> None:
    """Check the offer, then ask for the sharing consent (once) or make the referral."""
    viewer = context.viewer
    assert viewer is not None
    offer_id = fields[0]
    t = context.t
    today = context.now().astimezone(context.runtime.zone).date()
    async with session_scope(context.runtime.sessions) as session:
        try:
            offer = await offers.offer_for_people(session, offer_id, today)
        except OfferUnavailable:
            offer = None
        agreed = await consent.valid_consent(session, viewer.person_id, Purpose.REFERRAL)
    if offer is None:
        raise Refused(t.pgettext("offers", "This offer is no longer available."))
    if agreed is None:
        await show(
            update,
            context,
            t.pgettext(
                "referrals",
                "<b>Help with “{offer}”</b>\n\n"
                "The integration management can contact this service for you. For that, it notes "
                "your request in your case and may tell the service your first name and what you need "
                "help with.\n\n"
                "This is voluntary, and you can withdraw it at any time under “Privacy and my data”.",
                offer=offer_name(offer, t.language),
            ),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.pgettext("referrals", "✅ Yes, please help me"),
                            callback_data=AGREE.encode(offer_id, "yes"),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t.pgettext("referrals", "✖ No, thank you"),
                            callback_data=AGREE.encode(offer_id, "no"),
                        )
                    ],
                ]
            ),
        )
        return
    await _refer(update, context, offer_id)


async def agree(update: Update, context: BotContext, fields: Fields) -> None:
    """Yes (the consent is given and the referral made) or no (nothing is noted)."""
    viewer = context.viewer
    assert viewer is not None
    offer_id, answer = fields[0], fields[1]
    t = context.t
    if answer == "no":
        await show(update, context, t.pgettext("referrals", "All right, nothing was noted."), back_to_menu(t))
        return
    async with session_scope(context.runtime.sessions) as session:
        await consent.give_consent(
            session, viewer.person_id, Purpose.REFERRAL, viewer.language, context.now()
        )
    await _refer(update, context, offer_id)


async def _refer(update: Update, context: BotContext, offer_id: int) -> None:
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    runtime = context.runtime
    first_name = (update.effective_user.first_name or "")[:64] if update.effective_user else None
    today = context.now().astimezone(runtime.zone).date()
    async with session_scope(runtime.sessions) as session:
        try:
            offer = await offers.offer_for_people(session, offer_id, today)
        except OfferUnavailable:
            offer = None
        if offer is not None:
            _referral, case = await cases.request_referral(
                session, viewer.person_id, offer_id, first_name, context.now()
            )
            advisors = list(await cases.advisors_to_tell(session, case))
            number = case.number
    if offer is None:
        await show(
            update, context, t.pgettext("offers", "This offer is no longer available."), back_to_menu(t)
        )
        return
    await show(
        update,
        context,
        t.pgettext(
            "referrals",
            "Thank you. The integration management will get in touch with you about “{offer}”.",
            offer=offer_name(offer, t.language),
        ),
        back_to_menu(t),
    )
    for advisor in advisors:
        advisor_t = Translator(advisor.language or runtime.default_language, runtime.zone)
        await tell(
            context.bot,
            runtime.sessions,
            advisor,
            advisor_t.pgettext(
                "referrals",
                "🤝 <b>Request for help</b>\nCase {case} asks for help with “{offer}”.",
                case=number,
                offer=offer_name(offer, advisor_t.language),
            ),
            context.now(),
        )


def handlers() -> list[BaseHandler]:
    return [
        buttons.button(ASK, ask),
        buttons.button(AGREE, agree),
    ]
