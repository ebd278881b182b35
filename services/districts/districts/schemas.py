"""The JSON the districts API reads and writes (request bodies are strict: no stray fields, no operators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from districts.domain import Kpis
from districts.vitality import Vitality

T = TypeVar("T")

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Position = Annotated[list[Coordinate], Field(min_length=2, max_length=3)]
Ring = Annotated[list[Position], Field(min_length=4, max_length=20_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolygonIn(_Strict):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1, max_length=1000)]


class MultiPolygonIn(_Strict):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]], Field(min_length=1, max_length=1000)]


Perimeter = Annotated[PolygonIn | MultiPolygonIn, Field(discriminator="type")]


class DistrictCreate(_Strict):
    code: Code
    name: Name
    perimeter: Perimeter


class DistrictUpdate(_Strict):
    name: Name
    perimeter: Perimeter


class NilIn(_Strict):
    id: int = Field(ge=1, le=100_000, description="id_nil of the official NIL file")
    name: Name
    population: int = Field(ge=0)
    area_km2: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    perimeter: Perimeter


class AlertEntry(BaseModel):
    at: datetime
    state: Literal["open", "resolved"]
    detail: str
    value: float | None = None


class AlertOut(BaseModel):
    id: str
    district: str
    condition: str
    state: Literal["open", "resolved"]
    raised_at: datetime
    resolved_at: datetime | None
    detail: str
    value: float | None
    threshold: float | None
    history: list[AlertEntry]


class DistrictOut(BaseModel):
    code: str
    name: str
    version: int
    kpis: Kpis
    vitality: Vitality
    open_alerts: list[AlertOut]
    updated_at: datetime


class DistrictDetail(DistrictOut):
    perimeter: dict[str, Any]


class NilOut(BaseModel):
    id: int
    name: str
    population: int
    area_km2: float | None
    kpis: Kpis
    vitality: Vitality


class NilDetail(NilOut):
    perimeter: dict[str, Any]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Point(BaseModel):
    at: datetime
    value: float | None


class TimeSeries(BaseModel):
    district: str
    metric: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    points: list[Point]


class RebuildJob(BaseModel):
    id: str
    state: Literal["running", "switching", "done", "failed"]
    generation: int
    previous_generation: int
    requested_by: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    events_total: int | None
    events_replayed: int
    progress: float
    error: str | None
