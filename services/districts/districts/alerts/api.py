"""HTTP routes of the alerts: a district's thresholds and its alerts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path

from districts.alerts.schemas import AlertPublic, ThresholdsBody
from districts.alerts.service import AlertsService
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import Slug

router = APIRouter(tags=["districts"])

Alerts = Annotated[AlertsService, Depends(provide(AlertsService))]


@router.get("/districts/{code}/thresholds", summary="Alert thresholds of a district")
async def get_thresholds(code: Slug, alerts: Alerts) -> ThresholdsBody:
    return ThresholdsBody.of(await alerts.thresholds(code))


@router.put("/districts/{code}/thresholds", summary="Set alert thresholds (office)")
async def put_thresholds(
    code: Slug, body: ThresholdsBody, alerts: Alerts, principal: OfficePrincipal
) -> ThresholdsBody:
    return ThresholdsBody.of(await alerts.set_thresholds(code, body.to_domain()))


@router.get("/districts/{code}/alerts", summary="Alerts of a district, newest first")
async def alerts(
    code: Slug,
    service: Alerts,
    state: Literal["open", "resolved"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AlertPublic]:
    return page_of(await service.alerts(code, state, limit, offset), AlertPublic.of, limit, offset)


AlertId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/districts/{code}/alerts/{alert_id}", summary="One alert of a district")
async def alert(code: Slug, alert_id: AlertId, service: Alerts) -> AlertPublic:
    return AlertPublic.of(await service.alert(code, alert_id))


@router.post(
    "/districts/{code}/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert: who in the office saw it, and when (office; again changes nothing)",
)
async def acknowledge(code: Slug, alert_id: AlertId, service: Alerts, principal: OfficePrincipal) -> AlertPublic:
    return AlertPublic.of(await service.acknowledge(code, alert_id, principal.username))
