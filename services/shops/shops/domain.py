"""Shops, kiosks and historic shops: their lifecycle, recognition and the services they offer.

Pure rules, no I/O. Every change returns a new value with ``version`` + 1; a change that changes
nothing returns ``None`` so callers neither write nor emit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from shared.errors import Conflict, InvalidInput
from shops.catalogue import SERVICE_CODES
from shops.hours import HHMM_PATTERN, HoursError, WeeklyHours, format_hhmm, local_time

HISTORIC_MIN_YEARS = 50
SHOP_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
CLOCK_SKEW = timedelta(minutes=5)
Text = Annotated[str, Field(max_length=200)]


class ShopKind(StrEnum):
    HISTORIC = "historic"
    KIOSK = "kiosk"
    SHOP = "shop"


class ShopStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class RecognitionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(Value):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class Source(Value):
    """Where an imported shop comes from: the dataset and the record's official identifier."""

    dataset: str = Field(min_length=1, max_length=80)
    record: str = Field(min_length=1, max_length=80)


class Registry(Value):
    """What the register states about a shop: everything except its lifecycle."""

    kind: ShopKind
    name: str = Field(min_length=1, max_length=200)
    trade: Text = ""
    address: Text = ""
    cap: str | None = Field(default=None, pattern=r"^\d{5}$")
    municipio: int | None = Field(default=None, ge=1, le=9)
    nil: str | None = Field(default=None, max_length=120)
    id_nil: int | None = Field(default=None, ge=1, le=999)
    location: Location
    year_founded: int | None = Field(default=None, ge=1000, le=2999)
    source: Source | None = None


class Document(Value):
    """A document supporting an application, described (the file itself stays with the office)."""

    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=60)
    reference: str = Field(min_length=1, max_length=500)
    issued_on: date | None = None

    @field_serializer("issued_on")
    def _iso(self, value: date | None) -> str | None:
        return value.isoformat() if value else None


class Application(Value):
    founding_year: int = Field(ge=1000, le=2999)
    trade: str = Field(min_length=1, max_length=200)
    continuity: str = Field(min_length=1, max_length=2000)
    documents: tuple[Document, ...] = Field(default=(), max_length=20)


class Recognition(Value):
    state: RecognitionState
    application: Application
    applied_at: datetime
    applied_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ShopCard:
    """What a search result shows of the shop behind a service point."""

    shop_id: str
    name: str
    kind: ShopKind
    address: str
    lon: float
    lat: float
    active: bool


def _founded_check(year: int | None, now: datetime, field: str) -> None:
    if year is not None and year > local_time(now).year:
        raise InvalidInput(field, f"{year} is in the future")


class Shop(Registry):
    id: str
    status: ShopStatus
    status_changed_at: datetime | None = None
    status_note: str | None = None
    historic_recognised_at: datetime | None = None
    recognition: Recognition | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime

    @classmethod
    def register(cls, shop_id: str, registry: Registry, status: ShopStatus, now: datetime) -> Shop:
        _founded_check(registry.year_founded, now, "body.year_founded")
        return cls(id=shop_id, status=status, created_at=now, updated_at=now, **registry.model_dump())

    def registry(self) -> Registry:
        return Registry.model_validate(self.model_dump(include=set(Registry.model_fields)))

    def card(self) -> ShopCard:
        return ShopCard(
            self.id, self.name, self.kind, self.address, self.location.lon, self.location.lat, self.is_active
        )

    @property
    def is_active(self) -> bool:
        return self.status is ShopStatus.ACTIVE

    def _next(self, now: datetime, **changes: Any) -> Shop:
        return self.model_copy(update={**changes, "version": self.version + 1, "updated_at": now})

    def revise(self, registry: Registry, now: datetime) -> Shop | None:
        if registry == self.registry():
            return None
        _founded_check(registry.year_founded, now, "body.year_founded")
        return self._next(now, **dict(registry))

    def change_status(self, to: ShopStatus, at: datetime, note: str | None, now: datetime) -> Shop | None:
        """Close or reopen; ``at`` is when it happened (not in the future, not before the last change)."""
        if to is self.status:
            return None
        if at > now + CLOCK_SKEW:
            raise InvalidInput("body.at", "a status change cannot be dated in the future")
        if self.status_changed_at and at < self.status_changed_at:
            raise InvalidInput(
                "body.at", f"the shop's status last changed at {self.status_changed_at.isoformat()}; date it later"
            )
        return self._next(now, status=to, status_changed_at=at, status_note=note)

    def apply_for_recognition(self, application: Application, actor: str, now: datetime) -> Shop:
        if self.kind is ShopKind.HISTORIC:
            raise Conflict(f"{self.name!r} is already a historic shop")
        if not self.is_active:
            raise Conflict("a closed shop cannot apply for historic recognition")
        if self.recognition and self.recognition.state is RecognitionState.PENDING:
            raise Conflict("an application is already waiting for the office's decision")
        _founded_check(application.founding_year, now, "body.founding_year")
        recognition = Recognition(
            state=RecognitionState.PENDING, application=application, applied_at=now, applied_by=actor
        )
        return self._next(now, recognition=recognition)

    def decide_recognition(self, approve: bool, reason: str | None, actor: str, now: datetime) -> Shop:
        """Approve (only if founded at least 50 years ago, by the Milan calendar) or reject with a reason."""
        pending = self.recognition
        if pending is None or pending.state is not RecognitionState.PENDING:
            raise Conflict("there is no pending application to decide")
        founded = pending.application.founding_year
        decided = {"decided_at": now, "decided_by": actor, "reason": reason}
        if not approve:
            if not reason:
                raise InvalidInput("body.reason", "a rejection must give the applicant a reason")
            return self._next(
                now, recognition=pending.model_copy(update={"state": RecognitionState.REJECTED, **decided})
            )
        years = local_time(now).year - founded
        if years < HISTORIC_MIN_YEARS:
            raise Conflict(
                f"cannot approve: founded in {founded}, {years} years ago; a historic shop needs at least "
                f"{HISTORIC_MIN_YEARS} years in the same trade (eligible from {founded + HISTORIC_MIN_YEARS})"
            )
        return self._next(
            now,
            kind=ShopKind.HISTORIC,
            year_founded=founded,
            historic_recognised_at=now,
            recognition=pending.model_copy(update={"state": RecognitionState.APPROVED, **decided}),
        )


class OpeningInterval(Value):
    day: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    opens: str = Field(pattern=HHMM_PATTERN, examples=["08:00"])
    closes: str = Field(pattern=HHMM_PATTERN, examples=["19:30"], description="earlier than opens: past midnight")


class Offer(Value):
    """A service a shop offers, with its weekly hours."""

    id: str
    shop_id: str
    service: str
    hours: tuple[OpeningInterval, ...]
    note: str = ""
    created_at: datetime
    created_by: str

    @classmethod
    def create(
        cls,
        *,
        offer_id: str,
        shop: Shop,
        service: str,
        hours: tuple[OpeningInterval, ...],
        note: str,
        actor: str,
        now: datetime,
    ) -> Offer:
        if service not in SERVICE_CODES:
            raise InvalidInput("body.service", f"{service!r} is not in the service catalogue")
        if not shop.is_active:
            raise Conflict("a closed shop cannot offer services")
        weekly = weekly_hours(hours)
        normalised = tuple(
            OpeningInterval(day=i.day, opens=format_hhmm(i.opens), closes=format_hhmm(i.closes))
            for i in weekly.intervals
        )
        return cls(
            id=offer_id,
            shop_id=shop.id,
            service=service,
            hours=normalised,
            note=note,
            created_at=now,
            created_by=actor,
        )

    def weekly(self) -> WeeklyHours:
        return weekly_hours(self.hours)


def weekly_hours(hours: tuple[OpeningInterval, ...]) -> WeeklyHours:
    if not hours:
        raise InvalidInput("body.hours", "give at least one opening interval")
    try:
        return WeeklyHours.of((i.day, i.opens, i.closes) for i in hours)
    except HoursError as exc:
        raise InvalidInput("body.hours", str(exc)) from exc


@dataclass(frozen=True)
class ServicePoint:
    """One offered service where it is offered: what the nearest-point search looks through."""

    service_id: str
    service: str
    shop: ShopCard
    hours: WeeklyHours


def slug(text: str, max_length: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")


def generated_shop_id(name: str, suffix: str) -> str:
    """``<slug of the name>-<suffix>``, for shops that have no official identifier."""
    base = slug(name)
    return f"{base}-{suffix}" if base else f"shop-{suffix}"
