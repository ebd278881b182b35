"""What the markets API accepts and returns (``XCreate`` / ``XUpdate`` / ``XPublic``).

Every field is typed and bounded, so a value of the wrong kind (an object where text is expected,
an operator such as ``{"$gt": ""}``, a non-finite number) is refused with 422 before any use case
runs, and unknown fields are refused rather than ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from markets.calls import CallStatus, Outcome
from markets.domain import StallCategory, StallStatus

T = TypeVar("T")

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
CRITERION = r"^[a-z][a-z0-9_]{0,39}$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


def _number_as_text(value: Any) -> Any:
    """Stall numbers are text ("12", "A3"); a JSON integer is accepted as its digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


def _distinct_names(criteria: list[CriterionIn]) -> list[CriterionIn]:
    _unique([c.name for c in criteria])
    return criteria


Text = Annotated[str, Field(min_length=1, max_length=200)]
StallNumber = Annotated[
    str, BeforeValidator(_number_as_text), Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
]
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


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


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
                raise ValueError(f"{name} cannot be null")
        return self


class OccupancyPublic(BaseModel):
    stalls_total: int
    by_status: dict[StallStatus, int]
    occupancy_rate: float = Field(description="stalls not vacant / all stalls, from 0 to 1")
    open_now: int = Field(description="stalls with status open")


class SurfacePublic(BaseModel):
    total_m2: float
    food_service_m2: float
    food_service_cap_m2: float = Field(description="1/5 of the total stall surface")


class MarketPublic(MarketCreate):
    model_config = ConfigDict(extra="ignore")

    version: int
    updated_at: datetime
    occupancy: OccupancyPublic
    surface: SurfacePublic


class StallCreate(Strict):
    number: StallNumber
    area_m2: Area
    category: StallCategory


class ConcessionPublic(BaseModel):
    start: date
    end: date


class StallPublic(BaseModel):
    market_id: str
    number: str
    area_m2: float
    category: StallCategory
    holder: str | None
    concession: ConcessionPublic | None
    status: StallStatus
    version: int
    updated_at: datetime


class StatusChange(Strict):
    status: StallStatus
    note: Note = ""
    version: int | None = Field(default=None, ge=1, description="the version you read (as If-Match)")


class AssignmentIn(Strict):
    holder: Text
    category: StallCategory
    start: date
    end: date

    @model_validator(mode="after")
    def _ends_after_start(self) -> AssignmentIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class HistoryItem(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    at: datetime
    from_: StallStatus | None = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: StallStatus
    note: str
    actor: str
    version: int


class CriterionIn(Strict):
    name: str = Field(pattern=CRITERION, description="e.g. offer, social_value, innovation, experience")
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)
    max_points: float = Field(default=100, gt=0, le=1_000_000, allow_inf_nan=False)
    description: str = Field(default="", max_length=500)


class CallCreate(Strict):
    title: Text
    description: str = Field(default="", max_length=5000)
    stalls: Annotated[list[StallNumber], AfterValidator(_unique)] = Field(min_length=1, max_length=200)
    criteria: Annotated[list[CriterionIn], AfterValidator(_distinct_names)] = Field(min_length=1, max_length=12)
    categories: Annotated[list[StallCategory], AfterValidator(_unique)] = Field(
        default_factory=list, description="uses the call is open to; empty = any"
    )
    deadline: AwareDatetime
    concession_years: int = Field(default=20, ge=1, le=30)


class CallPublic(BaseModel):
    id: str
    market_id: str
    title: str
    description: str
    stalls: list[str]
    criteria: list[CriterionIn]
    categories: list[StallCategory]
    deadline: datetime
    concession_years: int
    status: CallStatus
    applications: int
    created_at: datetime
    awarded_at: datetime | None


class ApplicationIn(Strict):
    holder: Text = Field(description="the business that will hold the stall")
    category: StallCategory
    stalls: Annotated[list[StallNumber], AfterValidator(_unique)] = Field(
        default_factory=list, max_length=200, description="preferred stalls, best first; empty = any"
    )
    scores: dict[Annotated[str, Field(pattern=CRITERION)], Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        max_length=12, description="the value of each criterion of the call"
    )


class ApplicationPublic(BaseModel):
    id: str
    call_id: str
    applicant: str
    holder: str
    category: StallCategory
    stalls: list[str]
    scores: dict[str, float]
    score: float
    submitted_at: datetime


class ScoreLinePublic(BaseModel):
    criterion: str
    value: float
    max_points: float
    weight: float
    points: float


class RankingEntry(BaseModel):
    rank: int
    applicant: str
    holder: str
    category: StallCategory
    score: float
    breakdown: list[ScoreLinePublic]
    outcome: Outcome
    stall: str | None
    reason: str


class RankingPublic(BaseModel):
    call_id: str
    market_id: str
    status: CallStatus
    provisional: bool = Field(description="true until the call is awarded")
    tie_break: str
    unavailable_stalls: list[str] = Field(description="stalls of the call no longer free")
    surface_before: SurfacePublic
    surface_after: SurfacePublic
    items: list[RankingEntry]
