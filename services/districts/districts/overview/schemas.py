"""How districts and NILs are shown: definition, KPIs, vitality and, for districts, the open alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from districts.alerts.schemas import AlertPublic
from districts.overview.domain import DistrictView, NilView
from districts.projection.schemas import KpisPublic, VitalityPublic


def _figures(view: DistrictView | NilView) -> dict[str, Any]:
    return {"kpis": KpisPublic.of(view.figures.kpis), "vitality": VitalityPublic.of(view.figures.vitality)}


def _alerts(view: DistrictView) -> list[AlertPublic]:
    return [AlertPublic.of(a) for a in view.open_alerts]


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
        return cls.model_validate({**vars(view.district), **_figures(view), "open_alerts": _alerts(view)})


class DistrictDetail(DistrictPublic):
    perimeter: dict[str, Any]

    @classmethod
    def of(cls, view: DistrictView) -> DistrictDetail:
        perimeter = dict(view.district.perimeter or {})
        return cls.model_validate(
            {**vars(view.district), **_figures(view), "open_alerts": _alerts(view), "perimeter": perimeter}
        )


class NilPublic(BaseModel):
    id: int
    name: str
    population: int
    area_km2: float | None
    kpis: KpisPublic
    vitality: VitalityPublic

    @classmethod
    def of(cls, view: NilView) -> NilPublic:
        return cls.model_validate({**vars(view.nil), **_figures(view)})


class NilDetail(NilPublic):
    perimeter: dict[str, Any]

    @classmethod
    def of(cls, view: NilView) -> NilDetail:
        return cls.model_validate({**vars(view.nil), **_figures(view), "perimeter": dict(view.nil.perimeter or {})})
