"""How an offer looks in the chat: its card, its opening-hours line, and its long text in parts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from handlers.keyboards import button_label
from locales import Translator
from storage.hours import WEEKDAYS, opening_state
from storage.models import Offer
from storage.offers import FoundOffer, text_in

CARD_LIMIT = 3500
PART_LIMIT = 3800


def category_label(t: Translator, category: str) -> str:
    labels = {
        "language": t.pgettext("offers", "🗣 Language courses"),
        "work": t.pgettext("offers", "💼 Work and training"),
        "housing": t.pgettext("offers", "🏠 Housing"),
        "health": t.pgettext("offers", "🩺 Health"),
        "children": t.pgettext("offers", "🧒 Children, school and childcare"),
        "counselling": t.pgettext("offers", "🏛 Counselling and authorities"),
        "everyday": t.pgettext("offers", "🧺 Everyday help (food, clothing)"),
        "leisure": t.pgettext("offers", "⚽ Leisure, sports and clubs"),
        "volunteering": t.pgettext("offers", "🤝 Volunteering and meeting places"),
        "families": t.pgettext("offers", "👪 Women and families"),
    }
    return labels[category]


UNTRANSLATED = "🌐"  # marks an offer name shown in German or English because the viewer's is missing


def _name_in(offer: Offer | FoundOffer, language: str) -> tuple[str, bool]:
    """The offer's name to show in ``language`` and whether it is in another language."""
    if isinstance(offer, FoundOffer):
        return offer.name_in(language)
    shown = text_in(offer, language)
    return (shown.text.name, shown.fallback) if shown else (offer.slug, False)


def offer_name(offer: Offer | FoundOffer, language: str) -> str:
    return _name_in(offer, language)[0]


def is_untranslated(offer: Offer | FoundOffer, language: str) -> bool:
    return _name_in(offer, language)[1]


def offer_button_label(t: Translator, offer: Offer | FoundOffer) -> str:
    """An offer's name on a list or search button, shortened to fit, marked when not yet translated."""
    name = offer_name(offer, t.language)
    return button_label(f"{UNTRANSLATED} {name}" if is_untranslated(offer, t.language) else name)


def with_untranslated_note(t: Translator, offers: Sequence[Offer | FoundOffer]) -> str:
    """The paragraph to add to a list's text that explains the mark when some names on it are not yet
    translated, else ''."""
    if not any(is_untranslated(offer, t.language) for offer in offers):
        return ""
    return "\n\n" + t.pgettext("offers", "{mark} Not yet translated into your language.", mark=UNTRANSLATED)


def language_names(t: Translator, codes: list[str]) -> str:
    """Language codes named in the viewer's language ("Arabisch, Englisch")."""
    return ", ".join(t.language_name(code) for code in codes)


def weekly_hours(t: Translator, offer: Offer) -> str:
    """'Mo. 09:00–12:00 Uhr, 14:00–16:00 Uhr · Do. 17:00–19:00 Uhr' with Babel's weekday names and
    time ranges in the viewer's language and clock."""
    if not offer.hours:
        return ""
    parts = []
    for index, day in enumerate(WEEKDAYS):
        if day in offer.hours:
            ranges = ", ".join(t.time_range(start, end) for start, end in offer.hours[day])
            parts.append(f"{t.weekday(index, 'abbreviated')} {ranges}")
    return " · ".join(parts)


def opening_line(t: Translator, offer: Offer, now: datetime) -> str:
    """'Open now, until 12:00' or 'Closed now · opens Tuesday 14:00', in local time."""
    state = opening_state(offer.hours, now, t.zone)
    if state is None:
        return ""
    if state.open_now and state.closes_at is not None:
        return t.pgettext("offers", "🟢 Open now, until {time}", time=t.time(state.closes_at))
    if state.opens_at is None:
        return t.pgettext("offers", "🔴 Closed now")
    local_now, opens = now.astimezone(t.zone), state.opens_at.astimezone(t.zone)
    if opens.date() == local_now.date():
        text = t.pgettext("offers", "🔴 Closed now · opens today at {time}", time=t.time(opens))
    else:
        text = t.pgettext(
            "offers",
            "🔴 Closed now · opens {day} at {time}",
            day=t.weekday(opens.weekday()),
            time=t.time(opens),
        )
    if state.holiday_today:
        text += "\n" + t.pgettext("offers", "Today is a public holiday.")
    return text


def shorten(text: str, limit: int) -> tuple[str, bool]:
    """The text cut at a paragraph, sentence or word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    for boundary in ("\n\n", "\n", ". ", " "):
        position = cut.rfind(boundary)
        if position > limit // 2:
            return cut[: position + (1 if boundary == ". " else 0)].rstrip() + " …", True
    return cut.rstrip() + " …", True


def split_long_text(text: str, limit: int = PART_LIMIT) -> list[str]:
    """A long text as messages of at most ``limit`` characters, split between paragraphs or words."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        position = max(window.rfind("\n\n"), window.rfind("\n"))
        if position < limit // 2:
            position = window.rfind(" ")
        if position < limit // 2:
            position = limit
        parts.append(rest[:position].rstrip())
        rest = rest[position:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def card_text(t: Translator, offer: Offer, now: datetime) -> tuple[str, bool]:
    """The offer's card as Telegram HTML, and whether its long text was shortened."""
    shown = text_in(offer, t.language)
    assert shown is not None, "offers always have at least one text"
    text = shown.text
    lines = [f"<b>{_own_lines(t, text.name)}</b>", _own_lines(t, text.summary)]
    facts = []
    if text.audience:
        facts.append(t.pgettext("offers", "👥 For: {audience}", audience=text.audience))
    if text.cost:
        facts.append(t.pgettext("offers", "💶 Cost: {cost}", cost=text.cost))
    if offer.address:
        facts.append(t.pgettext("offers", "📍 {address}", address=offer.address))
    if offer.hours:
        facts.append(t.pgettext("offers", "🕒 {hours}", hours=weekly_hours(t, offer)))
        facts.append(opening_line(t, offer, now))
    if offer.languages:
        facts.append(
            t.pgettext(
                "offers",
                "🗣 Languages spoken: {languages}",
                languages=language_names(t, list(offer.languages)),
            )
        )
    if offer.barrier_free is True:
        facts.append(t.pgettext("offers", "♿ Barrier-free access"))
    elif offer.barrier_free is False:
        facts.append(t.pgettext("offers", "⚠ Not barrier-free"))
    if offer.phone:
        facts.append(t.pgettext("offers", "☎ {phone}", phone=offer.phone))
    if offer.email:
        facts.append(t.pgettext("offers", "✉ {email}", email=offer.email))
    if facts:
        lines.append("\n".join(facts))
    notes = []
    if shown.fallback:  # first, so the card reads in the viewer's language and direction from the start
        lines.insert(
            0,
            "<i>" + t.pgettext("offers", "🌐 This offer is not yet translated into your language.") + "</i>",
        )
    if offer.example:
        notes.append(t.pgettext("offers", "ℹ Example data: names and contact details are placeholders."))
    shortened = False
    if text.details:
        room = CARD_LIMIT - sum(len(line) for line in lines + notes) - 50
        details, shortened = shorten(text.details, max(room, 300))
        lines.insert(3 if shown.fallback else 2, _own_lines(t, details))
    if notes:
        lines.append("<i>" + "\n".join(notes) + "</i>")
    return "\n\n".join(lines), shortened


def _own_lines(t: Translator, text: str) -> str:
    """Offer text as Telegram HTML, each line isolated where its direction is not the viewer's (German
    text on an Arabic card), so the card keeps the viewer's direction; isolates end at a line break."""
    return "\n".join(t.isolate(html.escape(line)) if line.strip() else line for line in text.split("\n"))
