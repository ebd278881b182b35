"""Fixtures of the security tests: a platform of real processes, tokens of every role, and a small world.

The world is what the write routes act on: a market with stalls, a call, a shop offering a service
and a district. Tokens are minted with the platform's own signing key, as the gateway mints them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.testing import Platform, issue_token, running_platform, signer_for, unique
from shared.identity import Principal, Role
from shared.tokens import TokenSigner

SECURITY_ENV = {"RATE_LIMIT_ENABLED": "false", "LOGIN_BURST": "100", "LOG_LEVEL": "DEBUG", "REVOCATION_POLL_S": "2"}
OFFICE_PASSWORD = "office-demo"


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from running_platform(tmp_path_factory.mktemp("security"), **SECURITY_ENV)


def square(lon: float, lat: float, half: float = 0.004) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@dataclass(frozen=True)
class World:
    """Ids of what the write routes act on, and tokens to act with."""

    market: str
    call: str
    shop: str
    offer: str
    district: str
    signing_key: str  # the platform gateway's private key (PEM), to mint tokens as it does

    @property
    def signer(self) -> TokenSigner:
        return signer_for(self.signing_key)

    def token(self, role: Role, scope: str | None = None, ttl: timedelta = timedelta(minutes=10)) -> str:
        principal = Principal(username=f"{role.value}-tester", role=role, scope=scope)
        return issue_token(None, principal, ttl, self.signer)

    def bearer(self, role: Role, scope: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, scope)}"}


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any], office: dict[str, str]) -> Any:
    answer = await client.post(path, json=body, headers=office)
    assert answer.status_code in (200, 201), f"POST {path}: {answer.status_code} {answer.text}"
    return answer.json()


async def merged_openapi(client: httpx.AsyncClient, timeout_s: float = 60) -> dict[str, Any]:
    """The gateway's merged OpenAPI once every service's part is in it."""
    deadline = time.monotonic() + timeout_s
    while True:
        spec: dict[str, Any] = (await client.get("/openapi.json")).json()
        if not spec.get("x-unavailable") or time.monotonic() > deadline:
            assert not spec.get("x-unavailable"), f"services missing from the API: {spec['x-unavailable']}"
            return spec
        await asyncio.sleep(0.5)


@pytest.fixture(scope="package")
async def gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    # idle connections expire before the servers' 5 s keep-alive ends, so a request never goes out on a
    # connection the server is closing at that moment ("Server disconnected without sending a response")
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30, limits=limits) as client:
        yield client


@pytest.fixture(scope="package")
async def world(platform: Platform, gateway: httpx.AsyncClient) -> World:
    office = {"Authorization": f"Bearer {platform.token(Principal(username='office', role=Role.OFFICE))}"}
    api = "/api/v1"
    market = unique("sicuro")
    location = {"lon": 9.2, "lat": 45.47}
    market_body = {
        "id": market,
        "name": "Mercato Sicuro",
        "address": "Via Prova 2",
        "municipio": 2,
        "location": location,
    }
    await _created(gateway, f"{api}/markets", market_body, office)
    for number in ("1", "2", "3"):
        await _created(
            gateway, f"{api}/markets/{market}/stalls", {"number": number, "area_m2": 10, "category": "food"}, office
        )
    holder = {"holder": "Banco Sicuro", "category": "food", "start": "2026-01-01", "end": "2030-12-31"}
    await _created(gateway, f"{api}/markets/{market}/stalls/1/assignment", holder, office)
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    criteria = [{"name": "offer", "weight": 1}]
    call_body = {"title": "Bando di prova", "stalls": ["3"], "criteria": criteria, "deadline": deadline}
    call = (await _created(gateway, f"{api}/markets/{market}/calls", call_body, office))["id"]
    shop = unique("edicola")
    shop_body = {"id": shop, "kind": "kiosk", "name": "Edicola Sicura", "location": location}
    await _created(gateway, f"{api}/shops", shop_body, office)
    hours = [{"day": 0, "opens": "08:00", "closes": "12:00"}]
    offer = (
        await _created(gateway, f"{api}/shops/{shop}/services", {"service": "ritiro_pacchi", "hours": hours}, office)
    )["id"]
    district = unique("distretto")
    await _created(
        gateway, f"{api}/districts", {"code": district, "name": "Distretto", "perimeter": square(9.2, 45.47)}, office
    )
    return World(market, call, shop, offer, district, platform.stack.signing_key())
