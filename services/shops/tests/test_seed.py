"""The demo seed loads a living city once; running it again changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from shops.seed import OFFERS, SHOPS, seed

pytestmark = pytest.mark.integration


async def test_seed_is_idempotent_and_has_the_accounts_shops(service: Any) -> None:
    async with service.api_client() as api:
        await seed(api)
        first = [e.id for e in await service.published(lambda seen: len(seen) >= len(SHOPS))]
        await seed(api)
    shops = (await service.client.get("/shops", params={"limit": 500})).json()
    assert shops["total"] == len(SHOPS)
    by_id = {s["id"]: s for s in shops["items"]}
    assert by_id["ed-demo-isola"]["kind"] == "kiosk" and by_id["ed-demo-isola"]["nil"] == "ISOLA"
    assert by_id["bs-demo-drogheria-borsieri"]["kind"] == "historic"
    assert len({s["nil"] for s in shops["items"]}) >= 8
    offered = (await service.client.get("/shops/ed-demo-isola/services")).json()
    assert offered["total"] == len(OFFERS["ed-demo-isola"])
    expected_events = len(SHOPS) + sum(len(v) for v in OFFERS.values())
    events = await service.published(lambda seen: len(seen) >= expected_events)
    assert len(events) == expected_events and set(first) <= {e.id for e in events}, "the second run emitted nothing"
    found = await service.client.get(
        "/services/nearest",
        params={"service": "ritiro_pacchi", "lon": 9.1903, "lat": 45.4899, "open_at": "2026-07-06T10:00"},
    )
    assert found.json()["items"][0]["shop_id"] == "ed-demo-isola"
