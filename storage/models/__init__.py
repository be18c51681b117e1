"""Typed SQLAlchemy models, one module per concept. Times are stored as UTC and come back aware."""

from storage.models.base import Base, UTCDateTime
from storage.models.offers import Category, Offer, OfferChange, OfferStatus, OfferText
from storage.models.people import PendingInput, Person, ProcessedUpdate, Role

__all__ = [
    "Base",
    "Category",
    "Offer",
    "OfferChange",
    "OfferStatus",
    "OfferText",
    "PendingInput",
    "Person",
    "ProcessedUpdate",
    "Role",
    "UTCDateTime",
]
