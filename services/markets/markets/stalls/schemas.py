"""What the markets and stalls routes accept and return (``XCreate`` / ``XUpdate`` / ``XPublic``).

Every field is typed and bounded, so a value of the wrong kind (an object where text is expected,
an operator such as ``{"$gt": ""}``, a non-finite number) is refused with 422 before any use case
runs, and unknown fields are refused rather than ignored. ``XPublic.of`` maps a domain object to
what the API returns.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from markets.stalls.domain import HistoryEntry, MarketOverview, Stall, StallCategory, StallStatus, Surface
from shared import places
from shared.i18n import Said
from shared.web.public import Public

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


def _number_as_text(value: Any) -> Any:
    """Stall numbers are text ("12", "A3"); a JSON integer is accepted as its digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def distinct(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError(Said("non deve ripetere un valore", "must not repeat a value"))
    return values


Text = Annotated[str, Field(min_length=1, max_length=200)]
# as the gateway writes account names: 3-64 characters, kept lower-case
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
]
STALL_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9-]*$"
StallNumber = Annotated[str, BeforeValidator(_number_as_text), Field(min_length=1, max_length=12, pattern=STALL_NUMBER)]
StallNumberPath = Annotated[str, Path(min_length=1, max_length=12, pattern=STALL_NUMBER, examples=["12"])]
Area = Annotated[float, Field(gt=0, le=5000, allow_inf_nan=False)]
Note = Annotated[str, Field(max_length=280)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Location(Strict):
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class OpeningHours(Strict):
    day: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    opens: str = Field(pattern=HHMM)
    closes: str = Field(pattern=HHMM)


def market_details(fields: dict[str, Any]) -> dict[str, Any]:
    """A market's details as the domain holds them, from a validated body's ``model_dump()``."""
    details = dict(fields)
    if details.get("location") is not None:
        details["location"] = places.Location(**details["location"])
    if details.get("opening_hours") is not None:
        details["opening_hours"] = tuple(places.OpeningInterval(**h) for h in details["opening_hours"])
    return details


class MarketFields(Strict):
    name: Text
    address: Text
    cap: str | None = Field(default=None, pattern=r"^\d{5}$")
    municipio: int = Field(ge=1, le=9)
    nil: str | None = Field(default=None, max_length=120, description="NIL (neighbourhood) name")
    id_nil: int | None = Field(default=None, ge=1, le=999, description="NIL number")
    location: Location
    active: bool = True
    opening_hours: list[OpeningHours] = Field(default_factory=list, max_length=28)
    notes: str = Field(default="", max_length=2000)
    boxes: int | None = Field(default=None, ge=0, le=1000, description="official number of boxes")


class MarketCreate(MarketFields):
    id: str = Field(min_length=2, max_length=64, pattern=SLUG, description="slug, e.g. wagner")

    def details(self) -> dict[str, Any]:
        """Everything but the id, as the domain holds it."""
        return market_details(self.model_dump(exclude={"id"}))


NOT_NULL = ("name", "address", "municipio", "location", "active", "opening_hours", "notes")


class MarketUpdate(Strict):
    """Only the fields present change; ``cap``, ``nil``, ``id_nil`` and ``boxes`` may be cleared."""

    name: Text | None = None
    address: Text | None = None
    cap: str | None = Field(default=None, pattern=r"^\d{5}$")
    municipio: int | None = Field(default=None, ge=1, le=9)
    nil: str | None = Field(default=None, max_length=120)
    id_nil: int | None = Field(default=None, ge=1, le=999)
    location: Location | None = None
    active: bool | None = None
    opening_hours: list[OpeningHours] | None = Field(default=None, max_length=28)
    notes: str | None = Field(default=None, max_length=2000)
    boxes: int | None = Field(default=None, ge=0, le=1000)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> MarketUpdate:
        for name in NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(Said(f"{name} non può essere null", f"{name} cannot be null"))
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the domain holds them."""
        return market_details(self.model_dump(exclude_unset=True))


class OccupancyPublic(BaseModel):
    stalls_total: int
    by_status: dict[StallStatus, int]
    occupancy_rate: float = Field(description="stalls not vacant / all stalls, from 0 to 1")
    open_now: int = Field(description="stalls with status open")


class SurfacePublic(BaseModel):
    total_m2: float
    food_service_m2: float
    food_service_cap_m2: float = Field(description="1/5 of the total stall surface")

    @classmethod
    def of(cls, surface: Surface) -> SurfacePublic:
        return cls(
            total_m2=round(surface.total_m2, 2),
            food_service_m2=round(surface.food_service_m2, 2),
            food_service_cap_m2=round(surface.food_service_cap_m2, 2),
        )


class MarketPublic(MarketCreate):
    model_config = ConfigDict(extra="ignore")

    version: int
    updated_at: datetime
    occupancy: OccupancyPublic
    surface: SurfacePublic

    @classmethod
    def of(cls, overview: MarketOverview) -> MarketPublic:
        return cls.model_validate(
            {
                **asdict(overview.market),
                "occupancy": asdict(overview.occupancy),
                "surface": SurfacePublic.of(overview.surface),
            }
        )


class StallCreate(Strict):
    number: StallNumber
    area_m2: Area
    category: StallCategory


class ConcessionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str | None = Field(description="the concession's record (GET /concessions/{id}, office)")
    start: date
    end: date


class StallPublic(Public[Stall]):
    market_id: str
    number: str
    area_m2: float
    category: StallCategory
    holder: str | None
    concession: ConcessionPublic | None
    status: StallStatus
    version: int
    updated_at: datetime


class StatusUpdate(Strict):
    status: StallStatus
    note: Note = ""
    version: int | None = Field(default=None, ge=1, description="the version you read (as If-Match)")


class HistoryEntryPublic(Public[HistoryEntry]):
    model_config = ConfigDict(serialize_by_alias=True)

    at: datetime
    from_: StallStatus | None = Field(
        validation_alias=AliasChoices("from", "from_", "from_status"), serialization_alias="from"
    )
    to: StallStatus = Field(validation_alias=AliasChoices("to", "to_status"))
    note: str
    actor: str
    version: int
