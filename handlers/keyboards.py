"""Inline keyboards shared by several journeys: the main menu, the language picker, 'back', and the
one way a long name is shortened to fit on a button."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import Action, one_of
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator

MENU_SECTIONS = ("offers", "book", "appointments", "privacy", "language", "help")
MENU = Action("menu", (one_of((*MENU_SECTIONS, "home")),))
CHOOSE_LANGUAGE = Action("lang", (one_of(SUPPORTED_LANGUAGES),))


BUTTON_LABEL_LIMIT = 40  # characters that fit a phone-wide button without Telegram cutting them off
ELLIPSIS = "…"


def button_label(text: str, limit: int = BUTTON_LABEL_LIMIT) -> str:
    """``text`` shortened to at most ``limit`` characters at a word boundary, with an ellipsis: a long
    offer name reads "Deutschkurs für Frauen mit…", never "Deutschkurs für Frauen mit Kinderbetr"; only
    a single word longer than the button is cut inside."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    if text[len(cut)] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-·(/") + ELLIPSIS


def in_rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out ``per_row`` to a row, as an inline keyboard's rows."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def section_label(t: Translator, section: str) -> str:
    """The button label of a main-menu section in the viewer's language."""
    labels = {
        "offers": t.pgettext("menu", "🗺 Offers and clubs"),
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
