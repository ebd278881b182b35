"""Offers' events on ``shops.events`` (see docs/events.md); subject = shop id.

The type names and fields say "service", as the published contract always has.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shops.register.events import ShopEvent


class OpeningHours(BaseModel):
    day: int
    opens: str
    closes: str


class OfferRegistered(ShopEvent):
    """A service offered, with weekly totals of its hours (evening = after 19:00, weekend = Sat+Sun)."""

    event_type = "shops.service.registered.v1"
    service_id: str
    service: str
    hours: tuple[OpeningHours, ...]
    weekly_minutes: int
    evening_minutes: int
    weekend_minutes: int
    actor: str
    at: datetime


class OfferUpdated(OfferRegistered):
    """A service's hours or note changed: its new hours and weekly totals, and the offer's version."""

    event_type = "shops.service.updated.v1"
    version: int


class OfferRemoved(ShopEvent):
    event_type = "shops.service.removed.v1"
    service_id: str
    service: str
    actor: str
    at: datetime


PUBLISHED: tuple[type[ShopEvent], ...] = (OfferRegistered, OfferUpdated, OfferRemoved)
