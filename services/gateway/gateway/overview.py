"""``GET /overview``: the city at a glance, assembled concurrently from the services.

A service that does not answer leaves its part empty (``null`` totals, no items), is named in
``unavailable`` and makes the answer ``partial``; the rest is still served.

One overview costs a call per service plus one per district with open alerts. Anonymous callers
share one answer for a few seconds (``OVERVIEW_CACHE_S``), and callers arriving while it is being
built wait for that build instead of starting their own, so a crowd of visitors costs one fan-out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from gateway.proxy import Proxy, UpstreamUnavailable

PAGE = 500
MAX_PAGES = 20


class ServiceFailed(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def market_totals(items: list[dict[str, Any]]) -> dict[str, Any]:
    total = open_now = vacant = 0.0
    for market in items:
        occupancy = market.get("occupancy") or {}
        by_status = occupancy.get("by_status") or {}
        total += _number(occupancy.get("stalls_total"))
        open_now += _number(occupancy.get("open_now", by_status.get("open")))
        vacant += _number(by_status.get("vacant"))
    return {
        "count": len(items),
        "stalls_total": int(total),
        "stalls_open": int(open_now),
        "stalls_vacant": int(vacant),
        "occupancy_rate": round((total - vacant) / total, 4) if total else None,
        "items": items,
    }


class OverviewBuilder:
    def __init__(self, proxy: Proxy, cache_s: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.proxy = proxy
        self.cache_s = cache_s
        self.clock = clock
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._building: asyncio.Task[dict[str, Any]] | None = None

    async def anonymous(self) -> dict[str, Any]:
        """The overview as anyone may see it: cached for ``cache_s``, built once however many ask."""
        if self._cached and self.clock() - self._cached[0] < self.cache_s:
            return self._cached[1]
        if self._building is None:
            self._building = asyncio.create_task(self._build_and_keep(), name="overview")
        # shielded: a caller that goes away does not cancel the build the others wait for
        return await asyncio.shield(self._building)

    async def _build_and_keep(self) -> dict[str, Any]:
        try:
            built = await self.build([])
            self._cached = (self.clock(), built)
            return built
        finally:
            self._building = None

    async def _get(self, service: str, path: str, headers: list[tuple[str, str]], query: str = "") -> Any:
        try:
            response = await self.proxy.call(service, "GET", path, query=query.encode(), headers=headers)
        except UpstreamUnavailable as exc:
            raise ServiceFailed(service) from exc
        if response.status_code != 200:
            raise ServiceFailed(service)
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceFailed(service) from exc

    async def _all(self, service: str, path: str, headers: list[tuple[str, str]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = await self._get(service, path, headers, f"limit={PAGE}&offset={len(items)}")
            batch = page.get("items", []) if isinstance(page, dict) else []
            items.extend(item for item in batch if isinstance(item, dict))
            if not batch or len(items) >= int(page.get("total", len(items))):
                break
        return items

    async def _ready(self, service: str, headers: list[tuple[str, str]]) -> None:
        await self._get(service, "/readyz", headers)

    async def _alerts(self, district: dict[str, Any], headers: list[tuple[str, str]]) -> list[dict[str, Any]]:
        listed = district.get("open_alerts")
        if isinstance(listed, list):
            return [a for a in listed if isinstance(a, dict)]
        if not listed:
            return []
        path = f"/districts/{quote(str(district['code']), safe='')}/alerts"
        page = await self._get("districts", path, headers, "state=open&limit=500")
        items = page.get("items", []) if isinstance(page, dict) else []
        return [a for a in items if isinstance(a, dict) and a.get("state", "open") == "open"]

    async def build(self, headers: list[tuple[str, str]]) -> dict[str, Any]:
        markets, districts, shops = await asyncio.gather(
            self._all("markets", "/markets", headers),
            self._all("districts", "/districts", headers),
            self._ready("shops", headers),
            return_exceptions=True,
        )
        unavailable = {failure.service for failure in (markets, districts, shops) if isinstance(failure, ServiceFailed)}
        for outcome in (markets, districts, shops):
            if isinstance(outcome, BaseException) and not isinstance(outcome, ServiceFailed):
                raise outcome
        alerts: list[dict[str, Any]] = []
        if isinstance(districts, list):
            found = await asyncio.gather(
                *(self._alerts(d, headers) for d in districts if d.get("code")), return_exceptions=True
            )
            for outcome in found:
                if isinstance(outcome, ServiceFailed):
                    unavailable.add("districts")
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    alerts.extend(outcome)
        return {
            "markets": market_totals(markets)
            if isinstance(markets, list)
            else {
                "count": None,
                "stalls_total": None,
                "stalls_open": None,
                "stalls_vacant": None,
                "occupancy_rate": None,
                "items": [],
            },
            "districts": {"items": districts if isinstance(districts, list) else []},
            "alerts": sorted(alerts, key=lambda a: str(a.get("raised_at", "")), reverse=True),
            "partial": bool(unavailable),
            "unavailable": sorted(unavailable),
        }
