"""Which writing system a text is in: lets journey tests check the language without hard-coding
translations that native speakers may still improve."""

from __future__ import annotations

import re

SCRIPTS = {
    "arabic": re.compile(r"[\u0600-\u06FF]"),
    "cyrillic": re.compile(r"[\u0400-\u04FF]"),
    "ethiopic": re.compile(r"[\u1200-\u137F]"),
}
LANGUAGE_SCRIPT = {
    "ar": "arabic",
    "fa": "arabic",
    "ps": "arabic",
    "uk": "cyrillic",
    "ru": "cyrillic",
    "ti": "ethiopic",
}


ISOLATED = re.compile("\u2068[^\u2069]*\u2069")  # a value in another script (a German place name)


def share_of_script(text: str, script: str) -> float:
    """The share of letters in ``text``, outside isolated values, that belong to ``script``."""
    letters = [char for char in ISOLATED.sub("", text) if char.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for char in letters if SCRIPTS[script].match(char)) / len(letters)


def written_in(text: str, language: str) -> bool:
    """Whether most letters of the text are in the script of ``language`` (Latin-script
    languages pass when no other script dominates)."""
    script = LANGUAGE_SCRIPT.get(language)
    if script is None:
        return all(share_of_script(text, other) < 0.2 for other in SCRIPTS)
    return share_of_script(text, script) > 0.6
