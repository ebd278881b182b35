"""HTTP routes of the interventions: register (office), list, read, and the impact on a metric."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from districts.interventions.domain import Target, sentence
from districts.interventions.schemas import ImpactPublic, InterventionCreate, InterventionPublic
from districts.interventions.service import InterventionsService
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import ChosenLanguage, Slug
from shared.web.problems import CONFLICT

router = APIRouter(tags=["interventions"])

Interventions = Annotated[InterventionsService, Depends(provide(InterventionsService))]


@router.post(
    "/interventions",
    dependencies=[IDEMPOTENT],
    status_code=201,
    summary="Register an intervention",
    responses=CONFLICT,
)
async def register(
    body: InterventionCreate, service: Interventions, principal: OfficePrincipal, response: Response
) -> InterventionPublic:
    created = await service.register(
        body.code,
        body.title,
        body.kind,
        Target(body.target.type, body.target.id),
        body.started_at,
        body.comparison,
    )
    response.headers["Location"] = f"/interventions/{created.code}"
    return InterventionPublic.of(created)


@router.get("/interventions", summary="Interventions, oldest start first")
async def list_interventions(service: Interventions, limit: Limit = 50, offset: Offset = 0) -> Page[InterventionPublic]:
    return page_of(await service.list(limit, offset), InterventionPublic.of, limit, offset)


@router.get("/interventions/{code}", summary="An intervention")
async def get_intervention(code: Slug, service: Interventions) -> InterventionPublic:
    return InterventionPublic.of(await service.get(code))


@router.get(
    "/interventions/{code}/impact",
    summary="Before/after means, the comparison group and the difference-in-differences estimate",
    responses=CONFLICT,  # a market target not placed in any district or NIL yet
)
async def get_impact(
    code: Slug,
    service: Interventions,
    language: ChosenLanguage,
    metric: Annotated[str, Query(max_length=64)] = "vitality_index",
    window_days: Annotated[int, Query(ge=1, le=92)] = 30,
) -> ImpactPublic:
    intervention, result = await service.impact(code, metric, window_days)
    return ImpactPublic.of(intervention, result, sentence(intervention, result, language), language)
