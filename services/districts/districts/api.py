"""HTTP routes of the districts service: they translate requests into use cases and nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from districts.alerts import Thresholds
from districts.exports import csv_text, geojson
from districts.rebuild import Rebuilder
from districts.schemas import (
    AlertOut,
    DistrictCreate,
    DistrictDetail,
    DistrictOut,
    DistrictUpdate,
    NilDetail,
    NilIn,
    NilOut,
    Page,
    RebuildJob,
    TimeSeries,
)
from districts.service import DistrictsService
from shared.errors import InvalidInput
from shared.identity import OfficePrincipal
from shared.web.pagination import Limit, Offset

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])


def _service(request: Request) -> DistrictsService:
    service: DistrictsService = request.app.state.districts
    return service


def _rebuilder(request: Request) -> Rebuilder:
    rebuilder: Rebuilder = request.app.state.rebuilder
    return rebuilder


Service = Annotated[DistrictsService, Depends(_service)]
Rebuilds = Annotated[Rebuilder, Depends(_rebuilder)]
CodePath = Annotated[str, Path(min_length=1, max_length=64)]


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput("header.if-match", 'expected the ETag of the district, e.g. "3"')
    return int(value)


@router.get("/districts", response_model=Page[DistrictOut], summary="Districts with KPIs, vitality and open alerts")
async def list_districts(service: Service, limit: Limit = 50, offset: Offset = 0) -> Page[DistrictOut]:
    items, total = await service.list_districts(limit, offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/districts", status_code=201, response_model=DistrictDetail, summary="Create a district (office)")
async def create_district(
    body: DistrictCreate, service: Service, principal: OfficePrincipal, response: Response
) -> DistrictDetail:
    district = await service.create_district(body)
    response.headers["Location"] = f"/districts/{district.code}"
    response.headers["ETag"] = f'"{district.version}"'
    return district


@router.get(
    "/districts.geojson",
    summary="District perimeters with their KPIs as properties",
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
async def districts_geojson(service: Service) -> JSONResponse:
    return JSONResponse(geojson(await service.all_districts()), media_type="application/geo+json")


@router.get("/districts.csv", summary="District KPIs as CSV", response_class=Response)
async def districts_csv(service: Service) -> Response:
    return Response(
        csv_text(await service.all_districts()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="districts.csv"'},
    )


@router.post("/districts/rebuild", status_code=202, response_model=RebuildJob, summary="Rebuild projections (office)")
async def start_rebuild(rebuilder: Rebuilds, principal: OfficePrincipal, response: Response) -> RebuildJob:
    job = RebuildJob.model_validate(await rebuilder.start(principal.username))
    response.headers["Location"] = f"/districts/rebuild/{job.id}"
    return job


@router.get("/districts/rebuild/{job}", response_model=RebuildJob, summary="Progress of a rebuild (office)")
async def rebuild_job(
    job: Annotated[str, Path(max_length=64)], rebuilder: Rebuilds, principal: OfficePrincipal
) -> RebuildJob:
    return RebuildJob.model_validate(await rebuilder.job(job))


@router.get("/districts/{code}", response_model=DistrictDetail, summary="A district with its KPIs and perimeter")
async def get_district(code: CodePath, service: Service, response: Response) -> DistrictDetail:
    district = await service.district(code)
    response.headers["ETag"] = f'"{district.version}"'
    return district


@router.put("/districts/{code}", response_model=DistrictDetail, summary="Change a district (office)")
async def update_district(
    code: CodePath,
    body: DistrictUpdate,
    service: Service,
    principal: OfficePrincipal,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> DistrictDetail:
    district = await service.update_district(code, body, _version(if_match))
    response.headers["ETag"] = f'"{district.version}"'
    return district


@router.get("/districts/{code}/timeseries", response_model=TimeSeries, summary="A KPI of a district over time")
async def timeseries(
    code: CodePath,
    service: Service,
    metric: Annotated[str, Query(max_length=64)] = "vitality_index",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> TimeSeries:
    return await service.timeseries(code, metric, start, end)


@router.get("/districts/{code}/thresholds", response_model=Thresholds, summary="Alert thresholds of a district")
async def get_thresholds(code: CodePath, service: Service) -> Thresholds:
    return await service.thresholds(code)


@router.put("/districts/{code}/thresholds", response_model=Thresholds, summary="Set alert thresholds (office)")
async def put_thresholds(code: CodePath, body: Thresholds, service: Service, principal: OfficePrincipal) -> Thresholds:
    return await service.set_thresholds(code, body)


@router.get("/districts/{code}/alerts", response_model=Page[AlertOut], summary="Alerts of a district, newest first")
async def alerts(
    code: CodePath,
    service: Service,
    state: Literal["open", "resolved"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AlertOut]:
    items, total = await service.alerts(code, state, limit, offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@nil_router.get("/nils", response_model=Page[NilOut], summary="NIL neighbourhoods with their KPIs")
async def list_nils(service: Service, limit: Limit = 50, offset: Offset = 0) -> Page[NilOut]:
    items, total = await service.list_nils(limit, offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@nil_router.get("/nils/{nil_id}", response_model=NilDetail, summary="A NIL with its KPIs and perimeter")
async def get_nil(nil_id: Annotated[int, Path(ge=1, le=100_000)], service: Service) -> NilDetail:
    return await service.nil(nil_id)


@nil_router.post(
    "/nils",
    response_model=NilDetail,
    summary="Create or replace a NIL (office); 201 when new, 200 otherwise",
    responses={201: {"description": "Created", "model": NilDetail}},
)
async def save_nil(body: NilIn, service: Service, principal: OfficePrincipal, response: Response) -> NilDetail:
    nil, created = await service.save_nil(body)
    response.status_code = 201 if created else 200
    return nil
