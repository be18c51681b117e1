"""Staff commands (/agenda, /hours, /desk): refused politely to everyone without a staff role."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.context import BotContext
from storage.models import Role

ADVISOR_COMMANDS = ("agenda", "hours")
STAFF_COMMANDS = ("desk",)


def is_allowed(context: BotContext, *roles: Role) -> bool:
    return context.viewer is not None and context.viewer.role in roles


async def refuse(update: Update, context: BotContext) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(
            context.t.pgettext("staff", "This command is only for staff of the integration management.")
        )


async def advisor_tools(update: Update, context: BotContext) -> None:
    """/agenda and /hours: advisors' tools; not built yet, so staff are told what is coming."""
    if not is_allowed(context, Role.ADVISOR):
        await refuse(update, context)
        return
    if update.effective_message:
        await update.effective_message.reply_text(
            context.t.pgettext(
                "staff",
                "Your agenda and consultation hours will be managed here soon. "
                "Until then, please keep using your usual calendar.",
            )
        )


async def desk(update: Update, context: BotContext) -> None:
    """/desk: the sign-in link to the staff desk, once the desk exists."""
    if not is_allowed(context, Role.ADVISOR, Role.ADMIN):
        await refuse(update, context)
        return
    if update.effective_message:
        await update.effective_message.reply_text(
            context.t.pgettext(
                "staff", "The staff desk is being prepared. You will get your sign-in link here."
            )
        )


def handlers() -> list[BaseHandler]:
    return [CommandHandler(ADVISOR_COMMANDS, advisor_tools), CommandHandler(STAFF_COMMANDS, desk)]
