"""Telegram's command menus: everyone's in every language, and staff's own in their chat.

Staff get a chat-scoped menu with their commands (/agenda, /hours, /desk, and /admin for admins)
on top of everyone's: set when the bot starts, at once when an invitation makes someone staff, and
by a job every few minutes for roles given or taken elsewhere (the CLI, the desk).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import JobQueue

from handlers.context import BotContext, Runtime
from locales import SUPPORTED_LANGUAGES, Translator
from storage import people
from storage.db import session_scope
from storage.models import Role

log = logging.getLogger(__name__)
SYNC_JOB = "staff-command-menus"
SYNC_EVERY = timedelta(minutes=5)


def command_menu(t: Translator) -> list[BotCommand]:
    """Everyone's commands, in the reader's language."""
    return [
        BotCommand("start", t.pgettext("commands", "Start Wegweiser")),
        BotCommand("menu", t.pgettext("commands", "Main menu")),
        BotCommand("offers", t.pgettext("commands", "Offers and clubs")),
        BotCommand("search", t.pgettext("commands", "Search offers, e.g. /search German course")),
        BotCommand("book", t.pgettext("commands", "Book a consultation")),
        BotCommand("appointments", t.pgettext("commands", "My appointments")),
        BotCommand("privacy", t.pgettext("commands", "Privacy and my data")),
        BotCommand("language", t.pgettext("commands", "Change the language")),
        BotCommand("help", t.pgettext("commands", "Help")),
    ]


def staff_commands(t: Translator, role: str) -> list[BotCommand]:
    """The commands of a staff role, in the reader's language (``[]`` for everyone else)."""
    commands: list[BotCommand] = []
    if role == Role.ADVISOR:
        commands += [
            BotCommand("agenda", t.pgettext("commands", "My appointments this week")),
            BotCommand("hours", t.pgettext("commands", "My consultation hours")),
        ]
    if role == Role.ADMIN:
        commands.append(BotCommand("admin", t.pgettext("commands", "The offer directory")))
    if role in (Role.ADVISOR, Role.ADMIN):
        commands.append(BotCommand("desk", t.pgettext("commands", "Sign in to the staff desk")))
    return commands


async def set_public_menus(bot: Bot, runtime: Runtime) -> None:
    """The command menu in every language, and in the default language for all other phones."""
    for language in SUPPORTED_LANGUAGES:
        await bot.set_my_commands(command_menu(Translator(language, runtime.zone)), language_code=language)
    await bot.set_my_commands(command_menu(Translator(runtime.default_language, runtime.zone)))


async def set_staff_menu(
    bot: Bot, runtime: Runtime, telegram_id: int, role: str, language: str | None
) -> bool:
    """Give one person the menu of their role (staff's own, or everyone's again); whether it worked."""
    scope = BotCommandScopeChat(telegram_id)
    t = Translator(language or runtime.default_language, runtime.zone)
    own = staff_commands(t, role)
    try:
        if own:
            await bot.set_my_commands([*own, *command_menu(t)], scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as error:
        # E.g. someone made staff who has not started the bot yet: the next run tries again.
        log.info("could not set a staff command menu: %s", type(error).__name__)
        return False
    return True


async def update_staff_menu(context: BotContext, telegram_id: int, role: str, language: str | None) -> None:
    """At once, when a role was just given (an invitation) or a staff member changed language."""
    if await set_staff_menu(context.bot, context.runtime, telegram_id, role, language):
        context.bot_data.staff_menus[telegram_id] = role


async def sync_staff_menus(context: BotContext) -> None:
    """Job (and on start): staff menus for everyone whose role changed since the last run."""
    runtime = context.runtime
    async with session_scope(runtime.sessions) as session:
        staff = {
            person.telegram_id: (person.role, person.language)
            for person in await people.list_staff(session)
            if person.blocked_at is None
        }
    known = context.bot_data.staff_menus
    for telegram_id, (role, language) in staff.items():
        if known.get(telegram_id) != role and await set_staff_menu(
            context.bot, runtime, telegram_id, role, language
        ):
            known[telegram_id] = role
    for telegram_id in [telegram_id for telegram_id in known if telegram_id not in staff]:
        if await set_staff_menu(context.bot, runtime, telegram_id, Role.REFUGEE, None):
            del known[telegram_id]


def schedule_jobs(job_queue: JobQueue) -> None:
    """Staff menus now, then every few minutes, with a fixed id so a restart never doubles the job."""
    job_queue.run_repeating(
        sync_staff_menus,
        interval=SYNC_EVERY,
        first=timedelta(seconds=0),
        name=SYNC_JOB,
        job_kwargs={"id": SYNC_JOB, "replace_existing": True},
    )
