"""HTTP routes of the product mix: a district's and a NIL's kinds of commerce against the city's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from districts.mix.domain import GAP_THRESHOLD
from districts.mix.schemas import MixPublic
from districts.mix.service import MixService
from shared.app import provide
from shared.web.params import ChosenLanguage, Slug

router = APIRouter(tags=["districts"])
nil_router = APIRouter(tags=["neighbourhoods (NIL)"])

Mixes = Annotated[MixService, Depends(provide(MixService))]
Threshold = Annotated[float, Query(gt=0, le=1, description="a location quotient below this flags a gap (default 0.5)")]


@router.get("/districts/{code}/mix", response_model=MixPublic, summary="Product mix and gaps of a district")
async def district_mix(
    code: Slug, mixes: Mixes, language: ChosenLanguage, threshold: Threshold = GAP_THRESHOLD
) -> MixPublic:
    return MixPublic.of(f"district:{code}", await mixes.district(code, threshold), language)


@nil_router.get("/nils/{nil_id}/mix", response_model=MixPublic, summary="Product mix and gaps of a NIL")
async def nil_mix(
    nil_id: Annotated[int, Path(ge=1, le=100_000)],
    mixes: Mixes,
    language: ChosenLanguage,
    threshold: Threshold = GAP_THRESHOLD,
) -> MixPublic:
    return MixPublic.of(f"nil:{nil_id}", await mixes.nil(nil_id, threshold), language)
