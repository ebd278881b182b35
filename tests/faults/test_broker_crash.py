"""The broker is SIGKILLed during a stream of stall updates and restarted: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio

import pytest

from devkit.testing import Platform

from .conftest import Api, Database, StallTraffic, check_exactly_once, expect_projection, open_market

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_stall_updates_survive_a_broker_crash(running: Platform, api: Api, database: Database) -> None:
    market = await open_market(api, "broker", (9.05, 45.40), stalls=8)
    await expect_projection(api, market)
    traffic = StallTraffic(api, market, workers=4)
    await traffic.start()
    try:
        await traffic.until_accepted(30)
        await asyncio.to_thread(running.kill, "kafka")
        accepted_at_kill = len(traffic.accepted())
        await traffic.until_accepted(accepted_at_kill + 30)
        ready = await api.client.get(f"{running.url('markets')}/readyz")
        assert ready.status_code == 503 and "kafka" in ready.json()["detail"], ready.text
        during_outage = len(traffic.accepted()) - accepted_at_kill
        await asyncio.to_thread(running.start_one, "kafka")
        await traffic.until_accepted(len(traffic.accepted()) + 30)
    finally:
        await traffic.stop()
    during = [u for u in traffic.sent if u.http_status != 200]
    assert not during, f"writes refused while only the broker was down: {during[:5]}"
    kpis = await expect_projection(api, market, timeout_s=90)
    await check_exactly_once(api, running, database, market, traffic, "broker SIGKILLed")
    print(f"[broker SIGKILLed] accepted while the broker was down {during_outage}, district KPIs {kpis}")
