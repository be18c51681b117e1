"""Inline keyboards shared by several journeys: the main menu, the language picker, 'back'."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import Action, one_of
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator

MENU_SECTIONS = ("offers", "week", "book", "appointments", "privacy", "language", "help")
MENU = Action("menu", (one_of((*MENU_SECTIONS, "home")),))
CHOOSE_LANGUAGE = Action("lang", (one_of(SUPPORTED_LANGUAGES),))


def in_rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out ``per_row`` to a row, as an inline keyboard's rows."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def section_label(t: Translator, section: str) -> str:
    """The button label of a main-menu section in the viewer's language."""
    labels = {
        "offers": t.pgettext("menu", "🗺 Offers and clubs"),
        "week": t.pgettext("menu", "📆 This week"),
        "book": t.pgettext("menu", "📅 Book a consultation"),
        "appointments": t.pgettext("menu", "🗓 My appointments"),
        "privacy": t.pgettext("menu", "🔒 Privacy and my data"),
        "language": t.pgettext("menu", "🌐 Language"),
        "help": t.pgettext("menu", "❓ Help"),
    }
    return labels[section]


def main_menu(t: Translator) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(section_label(t, section), callback_data=MENU.encode(section))
        for section in MENU_SECTIONS
    ]
    return InlineKeyboardMarkup(in_rows(buttons, 2))


def back_to_menu(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.pgettext("menu", "« Main menu"), callback_data=MENU.encode("home"))]]
    )


def language_picker() -> InlineKeyboardMarkup:
    """Every language named in itself, two per row."""
    buttons = [
        InlineKeyboardButton(ENDONYMS[code], callback_data=CHOOSE_LANGUAGE.encode(code))
        for code in SUPPORTED_LANGUAGES
    ]
    return InlineKeyboardMarkup(in_rows(buttons, 2))
