"""HTTP route of the nearest open point offering a service (anonymous; the path says "services")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.app import provide
from shared.errors import InvalidInput
from shared.events import utcnow
from shared.i18n import Said
from shared.web.pagination import Limit
from shared.web.params import Moment
from shops.clock import local_time
from shops.nearest.schemas import NearbyPublic, NearestPage
from shops.nearest.service import NearestFinder
from shops.offers.domain import OFFER_CODES, not_in_catalogue

router = APIRouter(tags=["services"])

Finder = Annotated[NearestFinder, Depends(provide(NearestFinder))]


@router.get("/services/nearest")
async def nearest(
    finder: Finder,
    service: Annotated[str, Query(max_length=60, examples=["ritiro_pacchi"], description="a code of the catalogue")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    open_at: Annotated[
        Moment | None, Query(description="ISO time; without offset it is Milan time; default now")
    ] = None,
    open_only: Annotated[bool, Query(description="false: also points closed at open_at")] = True,
    limit: Limit = 10,
) -> NearestPage:
    """Points offering ``service`` closest first (great-circle metres), open at ``open_at`` (anonymous)."""
    if service not in OFFER_CODES:
        raise InvalidInput("query.service", not_in_catalogue(service))
    try:
        at = local_time(open_at or utcnow())
    except OverflowError as exc:
        raise InvalidInput(
            "query.open_at", Said(it="l'ora è fuori dal calendario", en="the time is outside the calendar")
        ) from exc
    found = await finder.find(service, lon, lat, at, limit=limit, open_only=open_only)
    return NearestPage(items=[NearbyPublic.of(f) for f in found], service=service, open_at=at, limit=limit)
