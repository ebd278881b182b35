"""How the projection's figures are shown: KPIs, the vitality index, and a KPI over time."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from districts.projection.domain import Kpis, Series
from districts.projection.vitality import Vitality


class KpisPublic(BaseModel):
    """The numbers the office follows for a district or a NIL (fractions are 0-1)."""

    shops_active: int = 0
    historic_active: int = 0
    kiosks_active: int = 0
    services_by_type: dict[str, int] = Field(default_factory=dict)
    services_total: int = 0
    stalls_total: int = 0
    stalls_open: int = 0
    stalls_vacant: int = 0
    stall_occupancy: float | None = None
    openings_30d: int = 0
    closures_30d: int = 0
    historic_closures_30d: int = 0
    population: int | None = None
    vitality_index: float | None = None
    as_of: datetime | None = None

    @classmethod
    def of(cls, kpis: Kpis) -> KpisPublic:
        return cls.model_validate(kpis.values())


class ComponentPublic(BaseModel):
    name: str
    value: float | None
    score: float | None
    weight: float
    explanation: str = Field(description="how the score came about, in English")
    explanation_it: str = Field(default="", description="the same in Italian")


class VitalityPublic(BaseModel):
    index: float | None
    components: list[ComponentPublic]

    @classmethod
    def of(cls, vitality: Vitality) -> VitalityPublic:
        return cls.model_validate(asdict(vitality))


class PointPublic(BaseModel):
    at: datetime
    value: float | None


class SeriesPublic(BaseModel):
    metric: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    points: list[PointPublic]

    @classmethod
    def of(cls, series: Series, **area: str | int) -> Self:
        """The series of the area named by ``area`` (``district=`` or ``nil=``)."""
        points = [PointPublic(at=at, value=value) for at, value in series.samples]
        return cls(metric=series.metric, start=series.start, end=series.end, points=points, **area)


class TimeSeriesPublic(SeriesPublic):
    district: str


class NilTimeSeriesPublic(SeriesPublic):
    nil: int
