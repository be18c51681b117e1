"""Appointment texts are valid Telegram HTML, escaped exactly once in every language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.rules import plain_text_of_html
from handlers.appointment_texts import advisor_notice, summary_lines
from locales import SUPPORTED_LANGUAGES, Translator
from storage.appointment_views import AppointmentView
from storage.models import Appointment, Case, Person

STARTS = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def view() -> AppointmentView:
    appointment = Appointment(
        id=1,
        starts_at=STARTS,
        ends_at=STARTS.replace(hour=9),
        kind="first",
        topic="papers",
        language="tr",
        interpreter=True,
    )
    case = Case(number="W-ABC234", first_name="D'Souza & <Co>")
    advisor = Person(staff_name="Anna Berger", language="de")
    return AppointmentView(appointment, case, None, advisor, "Rathaus, Zimmer <12> & Flur")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_notices_and_summaries_show_names_and_places_as_written(language: str) -> None:
    t = Translator(language, ZoneInfo("Europe/Berlin"))
    for event in ("booked", "cancelled", "moved"):
        visible = plain_text_of_html(advisor_notice(t, view(), event))  # raises on broken markup
        assert "D'Souza & <Co>" in visible
        assert "&#" not in visible and "&amp;" not in visible and "&lt;" not in visible
    shown = plain_text_of_html(summary_lines(t, view()))
    assert "Rathaus, Zimmer <12> & Flur" in shown and "&amp;" not in shown
