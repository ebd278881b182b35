"""HTTP routes of the rebuild: start one, follow its progress (office)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from districts.rebuild.schemas import RebuildJobPublic
from districts.rebuild.service import Rebuilder
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import Slug
from shared.web.problems import CONFLICT

router = APIRouter(tags=["districts"])

Rebuilds = Annotated[Rebuilder, Depends(provide(Rebuilder))]


@router.post(
    "/districts/rebuild",
    status_code=202,
    summary="Rebuild projections (office)",
    responses=CONFLICT,
)
async def start_rebuild(rebuilder: Rebuilds, principal: OfficePrincipal, response: Response) -> RebuildJobPublic:
    job = await rebuilder.start(principal.username)
    response.headers["Location"] = f"/districts/rebuild/{job.id}"
    return RebuildJobPublic.of(job)


@router.get("/districts/rebuild", summary="Rebuild jobs, newest first (office)")
async def rebuild_jobs(
    rebuilder: Rebuilds, principal: OfficePrincipal, limit: Limit = 20, offset: Offset = 0
) -> Page[RebuildJobPublic]:
    return page_of(await rebuilder.jobs_page(limit, offset), RebuildJobPublic.of, limit, offset)


@router.get("/districts/rebuild/{job}", summary="Progress of a rebuild (office)")
async def rebuild_job(job: Slug, rebuilder: Rebuilds, principal: OfficePrincipal) -> RebuildJobPublic:
    return RebuildJobPublic.of(await rebuilder.job(job))
