"""The mixed load: operators flipping stalls, shopkeepers adding and removing services, citizens
asking for the nearest open point, the office reading the city overview — all through the gateway.

Closed loop with bounded concurrency: ``concurrency`` workers each pick the next operation by
weight and send it as soon as the previous answer arrived, for a bounded time. A stall or a shop
is used by one worker at a time, as one operator's phone or one shopkeeper's till would be, so a
refused write (412, 409) is a real error, not a race the load made up.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from shops.offers.domain import OFFER_CODES

from tests.bench.harness import Identities, bearer
from tests.bench.samples import Recorder

MILAN = (9.08, 45.40, 9.28, 45.54)  # west, south, east, north
SERVICE_HOURS = [{"day": day, "opens": "08:00", "closes": "19:30"} for day in range(6)]

# what each operation is, for the report: who does it and which public route it takes
OPERATIONS = {
    "nearest": "citizen: GET /services/nearest (anonymous)",
    "stall_status": "operator: PUT /markets/{id}/stalls/{n}/status (If-Match)",
    "service_add": "shopkeeper: POST /shops/{id}/services",
    "service_remove": "shopkeeper: DELETE /shops/{id}/services/{sid}",
    "overview": "office: GET /overview",
}
WEIGHTS = {"nearest": 45, "stall_status": 25, "service_edit": 20, "overview": 10}
# clients that do nothing but write stall status (of the operator's market)
WRITES_ONLY = {"stall_status": 1}


@dataclass
class StallSlot:
    market: str
    number: str
    version: int
    status: str


@dataclass
class ShopSlot:
    shop: str
    token: str
    missing: list[str]  # catalogue services the shop does not offer yet: a shop offers each at most once
    offer: str | None = None


class MixedLoad:
    def __init__(
        self,
        http: httpx.AsyncClient,
        people: Identities,
        stalls: list[StallSlot],
        shops: list[ShopSlot],
        seed: int = 2026,
    ) -> None:
        self.http = http
        self.people = people
        self.stalls: asyncio.Queue[StallSlot] = asyncio.Queue()
        for stall in stalls:
            self.stalls.put_nowait(stall)
        self.shops: asyncio.Queue[ShopSlot] = asyncio.Queue()
        for shop in shops:
            self.shops.put_nowait(shop)
        self.rng = random.Random(seed)
        self.services = sorted(OFFER_CODES)  # what citizens look for
        self.actions: dict[str, Callable[[Recorder], Awaitable[None]]] = {
            "nearest": self.nearest,
            "stall_status": self.stall_status,
            "service_edit": self.service_edit,
            "overview": self.overview,
        }

    @classmethod
    async def prepare(cls, http: httpx.AsyncClient, people: Identities) -> MixedLoad:
        """The operator's assigned open or closed stalls, and the services each shop could still add."""
        listed = await http.get(f"/markets/{people.operator_market}/stalls", params={"limit": 500})
        listed.raise_for_status()
        stalls = [
            StallSlot(s["market_id"], s["number"], s["version"], s["status"])
            for s in listed.json()["items"]
            if s["holder"] and s["status"] in ("open", "closed")
        ]
        shops = []
        for shop, token in people.shopkeepers.items():
            offered = await http.get(f"/shops/{shop}/services", params={"limit": 500})
            offered.raise_for_status()
            missing = sorted(OFFER_CODES - {o["service"] for o in offered.json()["items"]})
            if missing:
                shops.append(ShopSlot(shop, token, missing))
        if not stalls or not shops:
            raise RuntimeError(f"no stall of {people.operator_market!r} to flip or no shop to add a service to")
        return cls(http, people, stalls, shops)

    async def run(
        self, seconds: float, concurrency: int, recorder: Recorder, weights: dict[str, int] | None = None
    ) -> float:
        """Drive the mix (``weights``: another mix of the same operations) for ``seconds``; return the time
        it really took. Sample times count from now."""
        started = recorder.started = time.perf_counter()
        until = started + seconds
        mix = WEIGHTS if weights is None else weights
        kinds, chances = list(mix), list(mix.values())

        async def worker() -> None:
            while time.perf_counter() < until:
                await self.actions[self.rng.choices(kinds, chances)[0]](recorder)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return await self.http.request(method, path, **kwargs)
        except httpx.HTTPError:
            return None

    async def _timed(self, recorder: Recorder, op: str, expected: int, method: str, path: str, **kwargs: Any) -> Any:
        """Send, record latency and outcome; return the JSON body of an expected answer, else None."""
        began = time.perf_counter()
        response = await self._send(method, path, **kwargs)
        status = response.status_code if response is not None else 0
        recorder.add(op, began, status == expected, status)
        if status != expected or response is None:
            return None
        return response.json() if response.content else {}

    async def nearest(self, recorder: Recorder) -> None:
        west, south, east, north = MILAN
        params = {
            "service": self.rng.choice(self.services),
            "lon": round(self.rng.uniform(west, east), 5),
            "lat": round(self.rng.uniform(south, north), 5),
        }
        await self._timed(recorder, "nearest", 200, "GET", "/services/nearest", params=params)

    async def overview(self, recorder: Recorder) -> None:
        await self._timed(recorder, "overview", 200, "GET", "/overview", headers=bearer(self.people.office))

    async def stall_status(self, recorder: Recorder) -> None:
        slot = await self.stalls.get()
        try:
            path = f"/markets/{slot.market}/stalls/{slot.number}"
            target = "closed" if slot.status == "open" else "open"
            headers = {**bearer(self.people.operator), "If-Match": f'"{slot.version}"'}
            body = {"status": target, "note": "mixed load"}
            changed = await self._timed(
                recorder, "stall_status", 200, "PUT", f"{path}/status", json=body, headers=headers
            )
            if changed is None:
                current = await self._send("GET", path)
                changed = current.json() if current is not None and current.status_code == 200 else None
            if changed is not None:
                slot.version, slot.status = changed["version"], changed["status"]
        finally:
            self.stalls.put_nowait(slot)

    async def _offered(self, slot: ShopSlot) -> str | None:
        """After a failed add or remove (a 503 may still have committed), what the shop offers now of
        the services the load adds, so the next write is not refused for the load's own mistake."""
        listed = await self._send("GET", f"/shops/{slot.shop}/services", params={"limit": 500})
        if listed is None or listed.status_code != 200:
            return slot.offer
        ours = [o["id"] for o in listed.json()["items"] if o["service"] in slot.missing]
        return ours[0] if ours else None

    async def service_edit(self, recorder: Recorder) -> None:
        slot = await self.shops.get()
        try:
            path, headers = f"/shops/{slot.shop}/services", bearer(slot.token)
            if slot.offer is None:
                body = {"service": self.rng.choice(slot.missing), "hours": SERVICE_HOURS, "note": "mixed load"}
                added = await self._timed(recorder, "service_add", 201, "POST", path, json=body, headers=headers)
                slot.offer = added["id"] if added else await self._offered(slot)
            else:
                removed = await self._timed(
                    recorder, "service_remove", 204, "DELETE", f"{path}/{slot.offer}", headers=headers
                )
                slot.offer = None if removed is not None else await self._offered(slot)
        finally:
            self.shops.put_nowait(slot)
