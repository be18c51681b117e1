"""The main menu's buttons, routed through one table: each section names the step that opens it."""

from __future__ import annotations

from telegram.ext import BaseHandler

from handlers import appointments, booking, buttons, offers, privacy, start
from handlers.keyboards import MENU

SECTIONS: dict[str, buttons.Step] = {
    "offers": offers.show_categories,
    "book": booking.start,
    "appointments": appointments.show_list,
    "privacy": privacy.overview,
    "language": start.show_language_picker,
    "help": start.show_help,
    "home": start.show_menu,
}


def handlers() -> list[BaseHandler]:
    return [buttons.menu(MENU, SECTIONS)]
