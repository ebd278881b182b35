"""HTTP routes of the projection: a district's KPIs over time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from districts.projection.schemas import PointPublic, TimeSeriesPublic
from districts.projection.service import KpiQueries
from shared.app import provide

router = APIRouter(tags=["districts"])

Queries = Annotated[KpiQueries, Depends(provide(KpiQueries))]
CodePath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/districts/{code}/timeseries", response_model=TimeSeriesPublic, summary="A KPI of a district over time")
async def timeseries(
    code: CodePath,
    queries: Queries,
    metric: Annotated[str, Query(max_length=64)] = "vitality_index",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> TimeSeriesPublic:
    start, end, samples = await queries.timeseries(code, metric, start, end)
    points = [PointPublic(at=at, value=value) for at, value in samples]
    return TimeSeriesPublic(district=code, metric=metric, start=start, end=end, points=points)
