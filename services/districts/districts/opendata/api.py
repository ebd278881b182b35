"""HTTP routes of the open data: the DCAT-AP_IT catalogue and the exports it lists (anonymous)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from districts.opendata.exports import (
    historic_shops_csv_text,
    markets_csv_text,
    service_points_csv_text,
    service_points_geojson,
)
from districts.opendata.service import OpenDataService
from districts.overview.exports import interventions_csv_text, nils_csv_text, services_csv_text
from districts.overview.schemas import DistrictDetail, NilPublic
from shared.app import provide

router = APIRouter(tags=["open data"])

OpenData = Annotated[OpenDataService, Depends(provide(OpenDataService))]


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/opendata/catalog.jsonld",
    summary="The open-data catalogue (DCAT-AP_IT, JSON-LD)",
    response_class=JSONResponse,
    responses={
        200: {"content": {"application/ld+json": {"schema": {"type": "object"}}}, "description": "The catalogue"}
    },
)
async def catalogue(service: OpenData) -> JSONResponse:
    return JSONResponse(await service.catalog(), media_type="application/ld+json")


@router.get("/opendata/nils.csv", summary="NIL indicators as CSV", response_class=Response)
async def nils_csv(service: OpenData) -> Response:
    return _csv(nils_csv_text([NilPublic.of(v) for v in await service.nils()]), "nils.csv")


@router.get("/opendata/services.csv", summary="Services on offer per district as CSV", response_class=Response)
async def services_csv(service: OpenData) -> Response:
    return _csv(services_csv_text([DistrictDetail.of(v) for v in await service.districts()]), "services.csv")


@router.get("/opendata/interventions.csv", summary="The interventions as CSV", response_class=Response)
async def interventions_csv(service: OpenData) -> Response:
    return _csv(interventions_csv_text(await service.all_interventions()), "interventions.csv")


@router.get("/opendata/markets.csv", summary="Markets and stall occupancy as CSV", response_class=Response)
async def markets_csv(service: OpenData) -> Response:
    return _csv(markets_csv_text(await service.markets()), "markets.csv")


@router.get(
    "/opendata/service-points.csv", summary="Services on offer and their weekly hours as CSV", response_class=Response
)
async def service_points_csv(service: OpenData) -> Response:
    return _csv(service_points_csv_text(await service.service_points()), "service-points.csv")


@router.get(
    "/opendata/service-points.geojson",
    summary="Services on offer and their weekly hours as GeoJSON",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}, "description": "Points"}},
)
async def service_points_map(service: OpenData) -> JSONResponse:
    return JSONResponse(service_points_geojson(await service.service_points()), media_type="application/geo+json")


@router.get("/opendata/historic-shops.csv", summary="Historic shops as CSV", response_class=Response)
async def historic_shops_csv(service: OpenData) -> Response:
    return _csv(historic_shops_csv_text(await service.historic_shops()), "historic-shops.csv")
