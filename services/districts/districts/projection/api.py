"""HTTP routes of the projection: a district's or a NIL's KPIs over time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from districts.projection.schemas import NilTimeSeriesPublic, TimeSeriesPublic
from districts.projection.service import KpiQueries
from shared.app import provide
from shared.web.params import Moment, Slug

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])

Queries = Annotated[KpiQueries, Depends(provide(KpiQueries))]
NilPath = Annotated[int, Path(ge=1, le=100_000)]
Metric = Annotated[str, Query(max_length=64)]
Start = Annotated[Moment | None, Query(alias="from")]
End = Annotated[Moment | None, Query(alias="to")]


SERIES = (
    "A point every five minutes (the interval snapshot) and, between them, one when the area's KPIs "
    "moved, at most once a minute: of the moves that come sooner, the last is added when the minute "
    "is over, at the time it was made."
)


@router.get(
    "/districts/{code}/timeseries",
    response_model=TimeSeriesPublic,
    summary="A KPI of a district over time",
    description=SERIES,
)
async def timeseries(
    code: Slug, queries: Queries, metric: Metric = "vitality_index", start: Start = None, end: End = None
) -> TimeSeriesPublic:
    return TimeSeriesPublic.of(await queries.timeseries(code, metric, start, end), district=code)


@nil_router.get(
    "/nils/{nil_id}/timeseries",
    response_model=NilTimeSeriesPublic,
    summary="A KPI of a NIL over time",
    description=SERIES,
)
async def nil_timeseries(
    nil_id: NilPath, queries: Queries, metric: Metric = "vitality_index", start: Start = None, end: End = None
) -> NilTimeSeriesPublic:
    return NilTimeSeriesPublic.of(await queries.nil_timeseries(nil_id, metric, start, end), nil=nil_id)
