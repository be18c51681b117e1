"""Typed SQLAlchemy models, one module per concept. Times are stored as UTC and come back aware."""

from sqlalchemy import MetaData

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
from storage.models.cases import (
    GOAL_STATUSES,
    NEED_AREAS,
    NEED_STATUSES,
    AuditEntry,
    CaseNote,
    Goal,
    NeedAssessment,
    Referral,
    Review,
)
from storage.models.desk import CalendarFeed, DeskSession, DeskSignIn
from storage.models.events import OfferEvent
from storage.models.invites import StaffInvite
from storage.models.jobs import JobRun
from storage.models.news import DeliveryStatus, NewsDelivery, NewsItem, NewsStatus, NewsText
from storage.models.offers import Category, Offer, OfferChange, OfferStatus, OfferText
from storage.models.operations import CaseKeyCanary, WaitingNotification
from storage.models.people import PendingInput, Person, ProcessedUpdate, Role, unhandled_updates_index
from storage.models.posters import PosterArrival


def schema_metadata() -> MetaData:
    """The models' metadata with every index the migrations create, for schema work (the migrations'
    comparisons, a check that the database matches the models). ``Base.metadata`` serves the bot's
    queries and may lack what is declared only on demand (``unhandled_updates_index``)."""
    unhandled_updates_index()
    return Base.metadata


__all__ = [
    "GOAL_STATUSES",
    "NEED_AREAS",
    "NEED_STATUSES",
    "Absence",
    "AdvisorProfile",
    "Appointment",
    "AppointmentKind",
    "AppointmentSlot",
    "AppointmentStatus",
    "AuditEntry",
    "Base",
    "CalendarFeed",
    "Case",
    "CaseKeyCanary",
    "CaseNote",
    "Category",
    "Consent",
    "ConsultationHours",
    "DeliveryStatus",
    "DeskSession",
    "DeskSignIn",
    "Goal",
    "JobRun",
    "NeedAssessment",
    "NewsDelivery",
    "NewsItem",
    "NewsStatus",
    "NewsText",
    "Offer",
    "OfferChange",
    "OfferEvent",
    "OfferStatus",
    "OfferText",
    "PendingInput",
    "Person",
    "PosterArrival",
    "ProcessedUpdate",
    "Referral",
    "Reminder",
    "ReminderStatus",
    "Review",
    "Role",
    "StaffInvite",
    "UTCDateTime",
    "WaitingListEntry",
    "WaitingNotification",
    "schema_metadata",
    "unhandled_updates_index",
]
