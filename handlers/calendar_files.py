"""Calendar files (.ics) for booked appointments, so phones can add them to their calendar."""

from __future__ import annotations

from datetime import timedelta

from locales import Translator
from storage.appointment_views import AppointmentView


def appointment_ics(t: Translator, view: AppointmentView) -> bytes:
    """One event with the time, the place and a reminder two hours before; nothing about the case."""
    from icalendar import Alarm, Calendar, Event  # loaded with the first calendar file, not at start-up

    appointment = view.appointment
    title = t.pgettext("booking", "Consultation – integration management")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@wegweiser")
    event.add("dtstamp", appointment.booked_at)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", title)
    event.add("location", view.place)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", timedelta(hours=-2))
    event.add_component(alarm)
    calendar = Calendar()
    calendar.add("prodid", "-//Wegweiser//Integration management//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()
