"""MongoDB is SIGKILLed during stall updates and restarted: 503 problem+json meanwhile, nothing half-applied,
and the services carry on without being restarted."""

from __future__ import annotations

import asyncio

import pytest

from devkit.testing import Platform

from .conftest import (
    Api,
    Database,
    StallTraffic,
    check_exactly_once,
    eventually,
    expect_projection,
    open_market,
    service_pids,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_writes_during_a_database_crash_are_refused_whole(
    running: Platform, api: Api, database: Database
) -> None:
    market = await open_market(api, "database", (9.05, 45.42), stalls=6)
    await expect_projection(api, market)
    pids = service_pids(running)
    traffic = StallTraffic(api, market, workers=3, pause_s=0.02)
    await traffic.start()
    try:
        await traffic.until_accepted(20)
        await asyncio.to_thread(running.kill, "mongo")
        killed_at = len(traffic.sent)

        async def refused_during_outage() -> bool:
            return sum(1 for u in traffic.sent[killed_at:] if u.http_status == 503) >= traffic.workers

        await eventually(refused_during_outage, 60, "writes refused while the database is down")
        await asyncio.sleep(2)  # the outage goes on; the operators' apps keep trying to read their stalls
        await asyncio.to_thread(running.start_one, "mongo")
        restarted_at = len(traffic.sent)
        await traffic.until_accepted(len(traffic.accepted()) + 20, timeout_s=90)
    finally:
        await traffic.stop()

    outage = [u for u in traffic.sent[killed_at:restarted_at] if u.http_status != 200]
    assert outage, "no write met the outage"
    assert {u.http_status for u in outage} <= {503}, f"outage answers other than 503: {outage}"
    assert all(u.problem_json for u in outage), "a 503 without application/problem+json"
    assert not [u for u in traffic.sent[:killed_at] if u.http_status not in (200, 503)]
    assert service_pids(running) == pids, "a service was restarted to recover"
    for name in ("markets", "shops", "districts", "gateway"):
        ready = await api.client.get(f"{running.url(name)}/readyz")
        assert ready.status_code == 200, f"{name} not ready after the database came back: {ready.text}"

    kpis = await expect_projection(api, market, timeout_s=90)
    await check_exactly_once(api, running, database, market, traffic, "database SIGKILLed")
    print(f"[database SIGKILLed] answered 503 problem+json during the outage {len(outage)}, district KPIs {kpis}")
