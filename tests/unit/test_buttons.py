"""The main menu's table opens every section the menu shows, and nothing else."""

from __future__ import annotations

from handlers import menu
from handlers.keyboards import MENU, MENU_SECTIONS


def test_every_main_menu_section_has_exactly_one_step() -> None:
    assert set(menu.SECTIONS) == {*MENU_SECTIONS, "home"}
    assert all(MENU.decode(MENU.encode(section)) == (section,) for section in menu.SECTIONS)
