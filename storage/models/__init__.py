"""Typed SQLAlchemy models, one module per concept. Times are stored as UTC and come back aware."""

from storage.models.base import Base, UTCDateTime
from storage.models.booking import (
    Absence,
    AdvisorProfile,
    Appointment,
    AppointmentKind,
    AppointmentSlot,
    AppointmentStatus,
    Case,
    Consent,
    ConsultationHours,
    Reminder,
    ReminderStatus,
    WaitingListEntry,
)
from storage.models.offers import Category, Offer, OfferChange, OfferStatus, OfferText
from storage.models.people import PendingInput, Person, ProcessedUpdate, Role

__all__ = [
    "Absence",
    "AdvisorProfile",
    "Appointment",
    "AppointmentKind",
    "AppointmentSlot",
    "AppointmentStatus",
    "Base",
    "Case",
    "Category",
    "Consent",
    "ConsultationHours",
    "Offer",
    "OfferChange",
    "OfferStatus",
    "OfferText",
    "PendingInput",
    "Person",
    "ProcessedUpdate",
    "Reminder",
    "ReminderStatus",
    "Role",
    "UTCDateTime",
    "WaitingListEntry",
]
