"""HTTP routes of the product mix: a district's and a NIL's kinds of commerce against the city's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from districts.mix.domain import GAP_THRESHOLD
from districts.mix.schemas import BaselineBody, BaselinePublic, MixPublic
from districts.mix.service import MixService
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.params import ChosenLanguage, Slug

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])

Mixes = Annotated[MixService, Depends(provide(MixService))]
NilId = Annotated[int, Path(ge=1, le=100_000)]
Threshold = Annotated[float, Query(gt=0, le=1, description="a location quotient below this flags a gap (default 0.5)")]


@router.get("/districts/{code}/mix", summary="Product mix and gaps of a district")
async def district_mix(
    code: Slug, mixes: Mixes, language: ChosenLanguage, threshold: Threshold = GAP_THRESHOLD
) -> MixPublic:
    mix = await mixes.district(code, threshold)
    return MixPublic.of(f"district:{code}", mix, language, await mixes.district_baselines(code))


@nil_router.get("/nils/{nil_id}/mix", summary="Product mix and gaps of a NIL")
async def nil_mix(
    nil_id: NilId, mixes: Mixes, language: ChosenLanguage, threshold: Threshold = GAP_THRESHOLD
) -> MixPublic:
    mix = await mixes.nil(nil_id, threshold)
    return MixPublic.of(f"nil:{nil_id}", mix, language, await mixes.nil_baselines(nil_id))


@nil_router.put(
    "/nils/{nil_id}/baseline",
    summary="Set a NIL's reference snapshot of its commerce, as the city's open data counts it (office)",
)
async def put_baseline(nil_id: NilId, body: BaselineBody, mixes: Mixes, _: OfficePrincipal) -> BaselinePublic:
    baseline = body.to_domain(nil_id)
    await mixes.put_baseline(baseline)
    public = BaselinePublic.of(baseline)
    assert public is not None
    return public
