"""What the admins' offer pages say: category and field names, notices after a form, and why a
value was refused."""

from __future__ import annotations

from desk.i18n import DeskTexts
from storage import offers
from storage.models import Category


def category_labels(texts: DeskTexts) -> dict[str, str]:
    return {
        Category.LANGUAGE: texts.gettext("Language courses"),
        Category.WORK: texts.gettext("Work"),
        Category.HOUSING: texts.gettext("Housing"),
        Category.HEALTH: texts.gettext("Health"),
        Category.CHILDREN: texts.gettext("Children"),
        Category.COUNSELLING: texts.gettext("Counselling"),
        Category.EVERYDAY: texts.gettext("Everyday life"),
        Category.LEISURE: texts.gettext("Leisure"),
        Category.VOLUNTEERING: texts.gettext("Volunteering"),
        Category.FAMILIES: texts.gettext("Families"),
    }


def field_labels(texts: DeskTexts) -> dict[str, str]:
    return {
        "name": texts.gettext("Name"),
        "summary": texts.gettext("Summary"),
        "audience": texts.gettext("Who it is for"),
        "cost": texts.gettext("Cost"),
        "details": texts.gettext("Details"),
        "category": texts.gettext("Category"),
        "address": texts.gettext("Address"),
        "hours": texts.gettext("Opening hours"),
        "phone": texts.gettext("Phone"),
        "email": texts.gettext("Email"),
        "website": texts.gettext("Website"),
        "languages": texts.gettext("Languages spoken"),
        "barrier_free": texts.gettext("Barrier-free"),
        "ends_on": texts.gettext("Ends on"),
    }


def offer_notices(texts: DeskTexts) -> dict[str, str]:
    return {
        "saved": texts.gettext("The offer was saved."),
        "unchanged": texts.gettext("Nothing was changed."),
        "archived": texts.gettext("The offer was archived: people no longer see it."),
        "restored": texts.gettext("The offer was restored: people see it again."),
        "verified": texts.gettext("The offer is marked as checked today."),
    }


def invalid_value_text(texts: DeskTexts, error: offers.InvalidValue, field: str) -> str:
    """Why a value was refused, as a whole sentence naming the field."""
    messages = {
        "empty": texts.gettext("“{field}” must not be empty.", field=field),
        "too_long": texts.gettext(
            "“{field}” is too long: at most {limit} characters.", field=field, limit=error.limit or 0
        ),
        "category": texts.gettext("Please choose one of the listed categories."),
        "hours": texts.gettext(
            "“{field}” cannot be read. Write opening hours like: "
            "mon 09:00-12:00, 14:00-16:00; tue 10:00-12:00",
            field=field,
        ),
        "phone": texts.gettext(
            "“{field}” does not look like a phone number, for example +49 7150 123456.", field=field
        ),
        "email": texts.gettext(
            "“{field}” does not look like an email address, for example name@example.org.", field=field
        ),
        "website": texts.gettext(
            "“{field}” must be an address starting with http:// or https://.", field=field
        ),
        "languages": texts.gettext(
            "“{field}”: please write language codes separated by commas, for example de, en, ar.", field=field
        ),
        "yes_no": texts.gettext("Please choose yes, no or unknown for “{field}”.", field=field),
        "date": texts.gettext("“{field}” must be a date.", field=field),
    }
    return messages.get(error.reason, texts.gettext("“{field}” cannot be changed here.", field=field))


def translation_labels(texts: DeskTexts) -> dict[str, str]:
    """The review states of locales/status.yaml as admins read them."""
    return {
        "source": texts.gettext("source texts"),
        "machine-assisted": texts.gettext("machine-assisted, review needed"),
        "reviewed": texts.gettext("reviewed by a native speaker"),
    }
