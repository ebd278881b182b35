"""HTTP routes of the districts' picture: districts and NILs with their figures, and the exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse

from districts.overview.exports import csv_text, geojson, nil_outlines
from districts.overview.schemas import DistrictDetail, DistrictPublic, NilDetail, NilPublic
from districts.overview.service import OverviewService
from shared.app import provide
from shared.web.etag import set_etag
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import Slug

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])

Overview = Annotated[OverviewService, Depends(provide(OverviewService))]


@router.get("/districts", summary="Districts with KPIs, vitality and open alerts")
async def list_districts(service: Overview, limit: Limit = 50, offset: Offset = 0) -> Page[DistrictPublic]:
    return page_of(await service.list_districts(limit, offset), DistrictPublic.of, limit, offset)


async def _exported(service: OverviewService) -> list[DistrictDetail]:
    return [DistrictDetail.of(v) for v in await service.all_districts()]


@router.get(
    "/districts.geojson",
    summary="District perimeters with their KPIs as properties",
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
async def districts_geojson(service: Overview) -> JSONResponse:
    return JSONResponse(geojson(await _exported(service)), media_type="application/geo+json")


@router.get("/districts.csv", summary="District KPIs as CSV", response_class=Response)
async def districts_csv(service: Overview) -> Response:
    return Response(
        csv_text(await _exported(service)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="districts.csv"'},
    )


@router.get("/districts/{code}", summary="A district with its KPIs and perimeter")
async def get_district(code: Slug, service: Overview, response: Response) -> DistrictDetail:
    view = await service.district(code)
    set_etag(response, view.district.version)
    return DistrictDetail.of(view)


@nil_router.get("/nils", summary="NIL neighbourhoods with their KPIs")
async def list_nils(service: Overview, limit: Limit = 50, offset: Offset = 0) -> Page[NilPublic]:
    return page_of(await service.list_nils(limit, offset), NilPublic.of, limit, offset)


@nil_router.get(
    "/nils.geojson",
    summary="NIL outlines (simplified) with their id, name and population: a map's base layer",
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
async def nils_geojson(service: Overview) -> JSONResponse:
    return JSONResponse(
        nil_outlines(await service.nil_outlines()),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@nil_router.get("/nils/{nil_id}", summary="A NIL with its KPIs and perimeter")
async def get_nil(nil_id: Annotated[int, Path(ge=1, le=100_000)], service: Overview) -> NilDetail:
    return NilDetail.of(await service.nil(nil_id))
