"""What the bot says when a domain rule refuses a staff member's change: one text per reason of
:class:`storage.errors.DomainError`, in the reader's language."""

from __future__ import annotations

from locales import SUPPORTED_LANGUAGES, Translator
from storage.advisors import PLACE_MAX
from storage.errors import DomainError


def domain_error_text(t: Translator, error: DomainError | str) -> str:
    """Why a change was not saved; ``error`` may also be just the reason."""
    reason = error if isinstance(error, str) else error.reason
    texts = {
        "hours_format": lambda: t.pgettext(
            "advisor",
            "Please write time ranges that do not overlap, like this: 09:00-12:00, 14:00-16:00 "
            "(or a single - for none).",
        ),
        "hours_grid": lambda: t.pgettext(
            "advisor", "Consultation hours start and end on the hour or half hour, e.g. 09:00-12:30."
        ),
        "absence_format": lambda: t.pgettext(
            "advisor", "Please write one date, or two dates like this: 2026-03-10 2026-03-14"
        ),
        "absence_order": lambda: t.pgettext("advisor", "The last day must not be before the first day."),
        "absence_past": lambda: t.pgettext("advisor", "This absence is already over."),
        "languages": lambda: t.pgettext(
            "advisor",
            "Please write language codes separated by commas, like this: de, en, ar. Known codes: {codes}.",
            codes=", ".join(SUPPORTED_LANGUAGES),
        ),
        "place_empty": lambda: t.pgettext(
            "advisor", "Please write the place, or a single - for the default."
        ),
        "place_long": lambda: t.pgettext(
            "advisor", "This is too long: at most {limit} characters.", limit=PLACE_MAX
        ),
        "not_yours": lambda: t.pgettext(
            "advisor", "This is not one of your appointments. Nothing was changed."
        ),
    }
    text = texts.get(reason)
    return text() if text else t.pgettext("advisor", "This change is not possible. Nothing was changed.")
