"""Catch-alls registered last: text the bot does not understand, unknown commands, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from handlers import buttons
from handlers.buttons import Answer, Fields
from handlers.context import BotContext
from handlers.keyboards import main_menu
from handlers.replies import show


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command we do not have: say so and show the way on."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = message.text.split()[0][:40]
    await message.reply_text(
        context.t.pgettext(
            "fallback",
            "I do not know the command {command}. Please use the menu or type /help.",
            command=command,
        ),
        reply_markup=main_menu(context.t),
    )


async def not_understood(update: Update, context: BotContext) -> None:
    """Anything else a person sends: never silence, always the menu."""
    message = update.effective_message
    if message is None:
        return
    t = context.t
    if message.text:
        text = t.pgettext(
            "fallback", "Sorry, I did not understand that. Please use the buttons below or type /help."
        )
    else:
        text = t.pgettext(
            "fallback", "I can only read text messages. Please use the buttons below or type /help."
        )
    await message.reply_text(text, reply_markup=main_menu(t))


async def stale_button(update: Update, context: BotContext, _fields: Fields) -> Answer:
    """A button whose data no journey accepts (old, from a removed feature, or forged)."""
    t = context.t
    await show(
        update,
        context,
        t.pgettext("fallback", "This button is no longer valid. Here is the current menu."),
        main_menu(t),
    )
    return Answer(t.pgettext("fallback", "This button is no longer valid."))


def handlers() -> list[BaseHandler]:
    return [
        MessageHandler(filters.COMMAND, unknown_command),
        MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, not_understood),
        buttons.otherwise(stale_button),
    ]
