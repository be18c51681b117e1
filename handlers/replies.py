"""Showing an answer: edit the message whose button was tapped, or send a new one."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from handlers.context import BotContext

_GONE = ("message to edit not found", "message can't be edited", "there is no text in the message")


async def show(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in place when a button was tapped (so menus do not pile up), otherwise send anew."""
    query = update.callback_query
    # A file, a place or a photo has no text to replace: the answer goes below it instead.
    editable = query is not None and (
        not isinstance(query.message, Message) or query.message.text is not None
    )
    if query is not None and query.message is not None and editable:
        try:
            result = await query.edit_message_text(text, reply_markup=markup)
            return result if isinstance(result, Message) else None
        except BadRequest as error:
            lowered = error.message.lower()
            if "message is not modified" in lowered:
                return None
            if not any(reason in lowered for reason in _GONE):
                raise
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)
