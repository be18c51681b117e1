"""Privacy and my data: what Wegweiser stores about me, withdrawing a consent, deleting everything.
A copy of my data is ``handlers.privacy_export``; the texts are ``handlers.privacy_texts``.

Reached by /privacy and the main menu's "Privacy and my data". A person's data only ever goes to
the chat of their own update, never to a chat named in a button. Nothing here logs personal data.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.appointment_texts import tell
from handlers.appointments import offer_freed_times
from handlers.buttons import Answer, Fields
from handlers.context import BotContext
from handlers.privacy_texts import (
    DELETE,
    DELETE_CONFIRMED,
    OVERVIEW,
    WITHDRAW,
    advisor_deletion_notice,
    back_to_privacy,
    delete_question,
    deleted_text,
    overview_keyboard,
    overview_text,
    withdrawn_text,
)
from handlers.replies import show
from locales import Translator
from storage import privacy
from storage.db import session_scope


async def overview(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/privacy, the menu button, or "back": what Wegweiser stores about me."""
    viewer = context.viewer
    assert viewer is not None
    async with session_scope(context.runtime.sessions) as session:
        data = await privacy.what_is_stored(session, viewer.person_id)
    t = context.t
    await show(update, context, overview_text(t, data), overview_keyboard(t, data))


async def withdraw(update: Update, context: BotContext, fields: Fields) -> Answer | None:
    """One tap withdraws a consent, as easily as it was given. A consent no longer in force (an
    older message's button) gets an alert, and the message shows what is in force now."""
    viewer = context.viewer
    assert viewer is not None
    (purpose,) = fields
    t = context.t
    async with session_scope(context.runtime.sessions) as session:
        withdrawn = await privacy.withdraw(session, viewer.person_id, purpose, context.now())
    if not withdrawn:
        await overview(update, context)
        return Answer(t.pgettext("privacy", "This consent is no longer in force."), alert=True)
    await show(update, context, withdrawn_text(t, purpose), back_to_privacy(t))
    return None


async def ask_delete(update: Update, context: BotContext, _fields: Fields) -> None:
    """Say what deleting everything means before anything is deleted."""
    t = context.t
    await show(
        update,
        context,
        delete_question(t),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.pgettext("privacy", "🗑 Yes, delete everything"),
                        callback_data=DELETE_CONFIRMED.encode(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t.pgettext("privacy", "↩ No, keep my data"), callback_data=OVERVIEW.encode()
                    )
                ],
            ]
        ),
    )


async def delete(update: Update, context: BotContext, _fields: Fields) -> None:
    """Delete the person and everything about them; tell the advisors of cancelled appointments."""
    viewer = context.viewer
    assert viewer is not None
    t = context.t
    runtime = context.runtime
    try:
        async with session_scope(runtime.sessions) as session:
            deletion = await privacy.delete_everything(session, viewer.person_id, context.now())
    except privacy.DeletionRefused:
        text = t.pgettext(
            "privacy",
            "Staff accounts cannot be deleted here. Please ask an admin to remove your staff role first.",
        )
        await show(update, context, text, back_to_privacy(t))
        return
    await show(update, context, deleted_text(t, len(deletion.cancelled)))
    for cancelled in deletion.cancelled:
        if cancelled.advisor is None:
            continue
        advisor_t = Translator(cancelled.advisor.language or runtime.default_language, runtime.zone)
        await tell(
            context.bot,
            runtime.sessions,
            cancelled.advisor,
            advisor_deletion_notice(advisor_t, cancelled),
            context.now(),
        )
    if deletion.cancelled:
        await offer_freed_times(context)


def handlers() -> list[BaseHandler]:
    return [
        buttons.command("privacy", overview),
        buttons.button(OVERVIEW, overview),
        buttons.button(WITHDRAW, withdraw),
        buttons.button(DELETE, ask_delete),
        buttons.button(DELETE_CONFIRMED, delete),
    ]
