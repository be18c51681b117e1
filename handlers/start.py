"""First contact and getting around: /start, /menu, /help, /language and the main menu's buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers import buttons, commands
from handlers.buttons import Answer, Fields
from handlers.context import BotContext, Viewer
from handlers.keyboards import CHOOSE_LANGUAGE, back_to_menu, language_picker, main_menu
from handlers.replies import show
from locales import ENDONYMS, Translator, supported_language
from storage import invites, people
from storage.db import session_scope
from storage.models import Role

INVITE_PREFIX = "invite_"


def welcome_text(t: Translator, municipality: str) -> str:
    return t.pgettext(
        "start",
        "<b>Welcome to Wegweiser!</b>\n\n"
        "I am the digital guide of the integration management in {municipality}. Here you can:\n"
        "• find local offers, courses and clubs\n"
        "• book a consultation with an integration manager\n"
        "• keep track of your appointments\n\n"
        "I only store what is needed, and you can see or delete your data at any time under "
        "“Privacy and my data”.\n\n"
        "What would you like to do?",
        municipality=municipality,
    )


def menu_text(t: Translator) -> str:
    return t.pgettext("menu", "What would you like to do? Please choose from the menu.")


def help_text(t: Translator, municipality: str, role: str = Role.REFUGEE) -> str:
    """How the bot works; staff also read their own commands."""
    text = t.pgettext(
        "help",
        "<b>How Wegweiser works</b>\n\n"
        "Tap the buttons under my messages, or use these commands:\n"
        "/menu – main menu\n"
        "/language – change the language\n"
        "/help – this help\n"
        "/start – start again\n\n"
        "Wegweiser is a service of the integration management in {municipality}. "
        "It does not replace a personal consultation.",
        municipality=municipality,
    )
    if role == Role.ADVISOR:
        text += "\n\n" + t.pgettext(
            "help",
            "<b>For advisors</b>\n"
            "/agenda – your appointments this week\n"
            "/hours – your consultation hours, absences, languages and place\n"
            "/desk – a sign-in link to the staff desk",
        )
    elif role == Role.ADMIN:
        text += "\n\n" + t.pgettext(
            "help",
            "<b>For admins</b>\n"
            "/admin – keep the offer directory current\n"
            "/desk – a sign-in link to the staff desk",
        )
    return text


def picker_text(t: Translator, default: Translator) -> str:
    """The picker's prompt in the viewer's language, and in English for those who read neither."""
    prompt = t.pgettext("language", "Please choose your language.")
    english = Translator("en", t.zone).pgettext("language", "Please choose your language.")
    fallback = default.pgettext("language", "Please choose your language.")
    lines = dict.fromkeys((prompt, fallback, english))
    return "🌐 " + "\n".join(lines)


async def start(update: Update, context: BotContext) -> None:
    """Greet in the phone's language when we speak it; otherwise ask which language to use.
    A staff invitation link (``/start invite_<token>``) is redeemed first."""
    viewer = context.viewer
    message = update.effective_message
    if viewer is None or message is None:
        return
    token = _invite_token(context)
    invited = await _redeem_invite(context, viewer, token) if token else None
    if not viewer.language_chosen:
        client_language = supported_language(update.effective_user.language_code)
        if client_language is None:
            if invited is not None:
                await message.reply_text(invite_text(context.t, invited))
            default = Translator(context.runtime.default_language, context.runtime.zone)
            await message.reply_text(picker_text(context.t, default), reply_markup=language_picker())
            return
        await _remember_language(context, context.viewer or viewer, client_language)
    t = context.t
    if invited is not None:
        await message.reply_text(invite_text(t, invited))
    await message.reply_text(welcome_text(t, context.runtime.municipality), reply_markup=main_menu(t))


def _invite_token(context: BotContext) -> str | None:
    """The token of a staff invitation link's start parameter, if this /start came from one."""
    argument = context.args[0] if context.args else ""
    token = argument.removeprefix(INVITE_PREFIX)
    return token if argument.startswith(INVITE_PREFIX) and token else None


def invite_text(t: Translator, accepted: bool) -> str:
    """The answer to a staff invitation link: welcome to the team, or ask for a new link."""
    if accepted:
        return t.pgettext("start", "Welcome to the team! You can now use the staff commands, such as /desk.")
    return t.pgettext("start", "This invitation link is not valid (any more). Please ask for a new one.")


async def _redeem_invite(context: BotContext, viewer: Viewer, token: str) -> bool:
    """Give the sender the invitation's staff role; whether that worked."""
    async with session_scope(context.runtime.sessions) as session:
        person = await invites.redeem_invite(session, token, viewer.person_id, context.now())
    if person is None:
        return False
    context.viewer = Viewer(
        viewer.person_id, viewer.telegram_id, viewer.language, person.role, viewer.language_chosen
    )
    await commands.update_staff_menu(context, viewer.telegram_id, person.role, person.language)
    return True


async def _remember_language(context: BotContext, viewer: Viewer, language: str) -> None:
    async with session_scope(context.runtime.sessions) as session:
        person = await people.person_by_telegram_id(session, viewer.telegram_id)
        if person is not None:
            await people.set_language(session, person, language)
    context.viewer = Viewer(viewer.person_id, viewer.telegram_id, language, viewer.role, True)


async def show_menu(update: Update, context: BotContext, _fields: Fields = ()) -> Answer | None:
    """/menu, or "« Main menu": the main menu."""
    await show(update, context, menu_text(context.t), main_menu(context.t))
    return None


async def show_help(update: Update, context: BotContext, _fields: Fields = ()) -> Answer | None:
    """/help: what the bot does and which commands exist (staff also read theirs)."""
    role = context.viewer.role if context.viewer else Role.REFUGEE
    await show(
        update, context, help_text(context.t, context.runtime.municipality, role), back_to_menu(context.t)
    )
    return None


async def show_language_picker(update: Update, context: BotContext, _fields: Fields = ()) -> Answer | None:
    """/language: the language picker."""
    default = Translator(context.runtime.default_language, context.runtime.zone)
    await show(update, context, picker_text(context.t, default), language_picker())
    return None


async def choose_language(update: Update, context: BotContext, fields: Fields) -> Answer:
    """A tap in the language picker: remember the language and continue in it."""
    assert context.viewer is not None
    (language,) = fields
    await _remember_language(context, context.viewer, language)
    if context.viewer.role in (Role.ADVISOR, Role.ADMIN):
        await commands.update_staff_menu(context, context.viewer.telegram_id, context.viewer.role, language)
    t = context.t
    await show(update, context, welcome_text(t, context.runtime.municipality), main_menu(t))
    return Answer(t.pgettext("language", "Language set: {language}", language=ENDONYMS[language]))


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("start", start),
        buttons.command("menu", show_menu),
        buttons.command("help", show_help),
        buttons.command("language", show_language_picker),
        buttons.button(CHOOSE_LANGUAGE, choose_language),
    ]
