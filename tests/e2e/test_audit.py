"""The audit log of the office's actions on the real platform: an action that changes a resource
(assign a stall, renew, transfer and revoke its concession) records how the resource stood just
before, read from the service that owns it, and what was sent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from devkit.testing import Platform, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
API = "/api/v1"


@pytest.fixture
async def client(platform: Platform) -> Any:
    async with httpx.AsyncClient(base_url=platform.gateway + API, timeout=30) as client:
        yield client


async def _entries(client: httpx.AsyncClient, office: dict[str, str], target_prefix: str) -> list[dict[str, Any]]:
    page = (await client.get("/audit", params={"actor": "office", "limit": 100}, headers=office)).json()
    return [e for e in page["items"] if e["target"].startswith(target_prefix)]


async def test_office_actions_on_a_concession_record_how_it_stood_before(client: httpx.AsyncClient) -> None:
    token = await client.post("/auth/token", data={"username": "office", "password": "office-demo"})
    office = {"Authorization": f"Bearer {token.json()['access_token']}"}
    market = unique("mkt")
    created = await client.post(
        "/markets",
        json={
            "id": market,
            "name": "Mercato di prova",
            "address": "Via Prova 1",
            "municipio": 2,
            "location": {"lon": 9.21, "lat": 45.48},
        },
        headers=office,
    )
    assert created.status_code == 201, created.text
    stall = {"number": 7, "area_m2": 12.5, "category": "food"}
    assert (await client.post(f"/markets/{market}/stalls", json=stall, headers=office)).status_code == 201
    start = date.today()
    first_end = start + timedelta(days=30)
    assigned = await client.post(
        f"/markets/{market}/stalls/7/assignment",
        json={
            "holder": "Frutta Rossi snc",
            "category": "food",
            "start": start.isoformat(),
            "end": first_end.isoformat(),
        },
        headers=office,
    )
    assert assigned.status_code in (200, 201), assigned.text
    concession = assigned.json()["concession"]["id"]

    new_end = first_end + timedelta(days=365)
    renewed = await client.post(f"/concessions/{concession}/renew", json={"end": new_end.isoformat()}, headers=office)
    assert renewed.status_code == 200, renewed.text
    moved = await client.post(
        f"/concessions/{concession}/transfer",
        json={"trader": "trader-bianchi", "holder": "Bianchi srl"},
        headers=office,
    )
    assert moved.status_code == 200, moved.text
    refused = await client.post(f"/concessions/{concession}/renew", json={"end": "2020-01-01"}, headers=office)
    assert refused.status_code == 422
    revoked = await client.post(f"/concessions/{concession}/revoke", json={"reason": "morosità"}, headers=office)
    assert revoked.status_code == 200, revoked.text

    log = await _entries(client, office, f"/concessions/{concession}")
    assert [e["action"] for e in log] == [
        "POST /concessions/{concession_id}/revoke",
        "POST /concessions/{concession_id}/transfer",
        "POST /concessions/{concession_id}/renew",
    ], "accepted actions only, newest first"
    revoke, transfer, renew = log
    assert renew["after"] == {"end": new_end.isoformat()}
    assert (renew["before"]["end"], renew["before"]["state"]) == (first_end.isoformat(), "active")
    assert (transfer["before"]["holder"], transfer["before"]["trader"]) == ("Frutta Rossi snc", None)
    assert transfer["before"]["end"] == new_end.isoformat(), "the renewal had landed when the transfer was read"
    assert (revoke["before"]["holder"], revoke["before"]["state"]) == ("Bianchi srl", "active")
    assert revoke["after"] == {"reason": "morosità"}

    (assignment,) = await _entries(client, office, f"/markets/{market}/stalls/7/assignment")
    assert assignment["action"] == "POST /markets/{market_id}/stalls/{number}/assignment"
    assert (assignment["before"]["holder"], assignment["before"]["status"]) == (None, "vacant")

    (creation,) = [e for e in await _entries(client, office, f"/markets/{market}") if e["target"].endswith("/stalls")]
    assert creation["before"] is None, "a write that creates had nothing before"
