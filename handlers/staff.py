"""Staff commands (/desk): refused politely to everyone without a staff role. The advisors' own
commands (/agenda, /hours) live in ``handlers.advisor`` and ``handlers.advisor_hours`` and use the
same refusal."""

from __future__ import annotations

import math
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from handlers import buttons
from handlers.buttons import Fields
from handlers.context import BotContext
from locales import Translator
from storage import desk_access
from storage.db import session_scope
from storage.models import Role

STAFF = (Role.ADVISOR, Role.ADMIN)


def refusal(t: Translator) -> str:
    """What everyone without the needed staff role hears, in their language."""
    return t.pgettext("staff", "This command is only for staff of the integration management.")


def too_many_links(t: Translator, retry_after: timedelta) -> str:
    """Why no new sign-in link is sent yet, and when to ask again."""
    minutes = max(1, math.ceil(retry_after.total_seconds() / 60))
    return t.npgettext(
        "staff",
        "You asked for many sign-in links just now. Please send /desk again in {n} minute.",
        "You asked for many sign-in links just now. Please send /desk again in {n} minutes.",
        minutes,
    )


async def desk(update: Update, context: BotContext, _fields: Fields = ()) -> None:
    """/desk: a single-use sign-in link to the staff desk, valid for ten minutes."""
    viewer = context.viewer
    message = update.effective_message
    assert viewer is not None and message is not None
    try:
        async with session_scope(context.runtime.sessions) as session:
            token = await desk_access.issue_sign_in(session, viewer.person_id, context.now())
    except desk_access.TooManySignIns as limited:
        await message.reply_text(too_many_links(context.t, limited.retry_after))
        return
    link = f"{context.runtime.desk_url}/signin/{token}"
    await message.reply_text(
        context.t.pgettext(
            "staff",
            "Your sign-in link for the staff desk: {link}\n\nIt works once, for ten minutes. "
            "Do not forward it.",
            link=link,
        ),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(context.t.pgettext("staff", "Open the staff desk"), url=link)]]
        )
        if link.startswith("https://")
        else None,
    )


def handlers() -> list[BaseHandler]:
    return [buttons.command("desk", desk, roles=STAFF, refusal=refusal)]
