"""How districts and NILs are shown: definition, KPIs, vitality and, for districts, the open alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from districts.alerts.schemas import AlertPublic
from districts.overview.domain import DistrictView, NilView
from districts.projection.schemas import KpisPublic, VitalityPublic


class DistrictPublic(BaseModel):
    code: str
    name: str
    version: int
    kpis: KpisPublic
    vitality: VitalityPublic
    open_alerts: list[AlertPublic]
    updated_at: datetime

    @classmethod
    def of(cls, view: DistrictView) -> DistrictPublic:
        d = view.district
        return cls(
            code=d.code,
            name=d.name,
            version=d.version,
            kpis=KpisPublic.of(view.figures.kpis),
            vitality=VitalityPublic.of(view.figures.vitality),
            open_alerts=[AlertPublic.of(a) for a in view.open_alerts],
            updated_at=d.updated_at,
        )


class DistrictDetail(DistrictPublic):
    perimeter: dict[str, Any]

    @classmethod
    def of(cls, view: DistrictView) -> DistrictDetail:
        return cls.model_validate({**dict(DistrictPublic.of(view)), "perimeter": dict(view.district.perimeter or {})})


class NilPublic(BaseModel):
    id: int
    name: str
    population: int
    area_km2: float | None
    kpis: KpisPublic
    vitality: VitalityPublic

    @classmethod
    def of(cls, view: NilView) -> NilPublic:
        n = view.nil
        return cls(
            id=n.id,
            name=n.name,
            population=n.population,
            area_km2=n.area_km2,
            kpis=KpisPublic.of(view.figures.kpis),
            vitality=VitalityPublic.of(view.figures.vitality),
        )


class NilDetail(NilPublic):
    perimeter: dict[str, Any]

    @classmethod
    def of(cls, view: NilView) -> NilDetail:
        return cls.model_validate({**dict(NilPublic.of(view)), "perimeter": dict(view.nil.perimeter or {})})
