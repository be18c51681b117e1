"""The one error type of the domain: an operation refused for a stated reason.

``reason`` is a stable code; the bot translates it through gettext (one text per reason), the desk
through its catalog and the CLI into one plain line. ``details`` carries the values a text names
(a limit, the appointments in the way), never personal data meant for logs.
"""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule refused an operation; nothing was changed by it."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class BookingRefused(DomainError):
    """A booking operation that cannot be done: taken, too_soon, too_far, outside_hours, advisor,
    limit, not_yours, too_late, not_booked, topic."""


class AlreadyBooked(BookingRefused):
    """The person already booked exactly this time (a second tap on "confirm"); nothing new."""

    def __init__(self, appointment_id: int) -> None:
        super().__init__("already_booked")
        self.appointment_id = appointment_id
