"""HTTP routes that define the geography: districts and NILs (office only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from districts.geography.schemas import DistrictCreate, DistrictUpdate, NilCreate
from districts.geography.service import GeographyService
from districts.overview.schemas import DistrictDetail, NilDetail
from districts.overview.service import OverviewService
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.etag import IfMatch, set_etag
from shared.web.params import Slug
from shared.web.problems import CONFLICT

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])

Geography = Annotated[GeographyService, Depends(provide(GeographyService))]
Overview = Annotated[OverviewService, Depends(provide(OverviewService))]


@router.post(
    "/districts",
    status_code=201,
    summary="Create a district (office)",
    responses=CONFLICT,
)
async def create_district(
    body: DistrictCreate, geography: Geography, overview: Overview, principal: OfficePrincipal, response: Response
) -> DistrictDetail:
    created = await geography.create_district(body.code, body.name, body.perimeter.model_dump())
    response.headers["Location"] = f"/districts/{created.code}"
    set_etag(response, created.version)
    return DistrictDetail.of(await overview.district(created.code))


@router.put("/districts/{code}", summary="Change a district (office)")
async def update_district(
    code: Slug,
    body: DistrictUpdate,
    geography: Geography,
    overview: Overview,
    principal: OfficePrincipal,
    response: Response,
    if_match: IfMatch,
) -> DistrictDetail:
    changed = await geography.update_district(code, body.name, body.perimeter.model_dump(), if_match)
    set_etag(response, changed.version)
    return DistrictDetail.of(await overview.district(code))


@nil_router.post(
    "/nils",
    summary="Create or replace a NIL (office); 201 when new, 200 otherwise",
    responses={201: {"description": "Created", "model": NilDetail}},
)
async def save_nil(
    body: NilCreate, geography: Geography, overview: Overview, principal: OfficePrincipal, response: Response
) -> NilDetail:
    created = await geography.save_nil(body.to_domain())
    response.status_code = 201 if created else 200
    return NilDetail.of(await overview.nil(body.id))
