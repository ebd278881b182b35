"""HTTP routes of the projection: a district's or a NIL's KPIs over time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from districts.projection.schemas import NilTimeSeriesPublic, SeriesPublic, TimeSeriesPublic
from districts.projection.service import KpiQueries
from shared.app import provide

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])

Queries = Annotated[KpiQueries, Depends(provide(KpiQueries))]
CodePath = Annotated[str, Path(min_length=1, max_length=64)]
NilPath = Annotated[int, Path(ge=1, le=100_000)]
Metric = Annotated[str, Query(max_length=64)]
Start = Annotated[datetime | None, Query(alias="from")]
End = Annotated[datetime | None, Query(alias="to")]


@router.get("/districts/{code}/timeseries", response_model=TimeSeriesPublic, summary="A KPI of a district over time")
async def timeseries(
    code: CodePath, queries: Queries, metric: Metric = "vitality_index", start: Start = None, end: End = None
) -> TimeSeriesPublic:
    start, end, samples = await queries.timeseries(code, metric, start, end)
    return TimeSeriesPublic(district=code, metric=metric, start=start, end=end, points=SeriesPublic.points_of(samples))


@nil_router.get("/nils/{nil_id}/timeseries", response_model=NilTimeSeriesPublic, summary="A KPI of a NIL over time")
async def nil_timeseries(
    nil_id: NilPath, queries: Queries, metric: Metric = "vitality_index", start: Start = None, end: End = None
) -> NilTimeSeriesPublic:
    start, end, samples = await queries.nil_timeseries(nil_id, metric, start, end)
    return NilTimeSeriesPublic(nil=nil_id, metric=metric, start=start, end=end, points=SeriesPublic.points_of(samples))
