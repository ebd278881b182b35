"""The database of the default local configuration SIGKILLed again and again, at random moments: while
operators change stall statuses and while a service starts up. Every acknowledged change survives, is
published once and reaches the districts; the database reopens every time and the services carry on
without being restarted. (A kill during a districts rebuild is not part of it: see decision 0006.)"""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

from devkit.testing import Platform

from .conftest import (
    Api,
    Database,
    StallTraffic,
    check_exactly_once,
    expect_projection,
    open_market,
    service_pids,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KILLS_DURING_WRITES = 4
SERVICE_DATABASES = ("markets", "shops", "districts", "gateway")


async def _kill_database(platform: Platform, rng: random.Random, what: str, log: list[str]) -> None:
    """SIGKILL the database, leave it down a random moment, start it again (it must reopen its store)."""
    started = time.monotonic()
    await asyncio.to_thread(platform.kill, "mongo")
    await asyncio.sleep(rng.uniform(0.0, 1.0))
    await asyncio.to_thread(platform.start_one, "mongo")
    log.append(f"{what} (back in {time.monotonic() - started:.1f}s)")


async def _collections(database: Database) -> dict[str, set[str]]:
    return {name: set(await database.client[name].list_collection_names()) for name in SERVICE_DATABASES}


async def test_acknowledged_writes_survive_database_kills_at_random_moments(
    running: Platform, api: Api, database: Database
) -> None:
    seed = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(1_000_000))
    rng = random.Random(seed)
    print(f"\n[database kills] seed {seed} (FAULT_SEED={seed} repeats these moments)")
    assert "--sync-on-commit" in running.components["mongo"].process.argv, "not the default configuration"
    market = await open_market(api, "kills", (9.07, 45.43), stalls=8)
    await expect_projection(api, market)
    collections_before = await _collections(database)
    pids = service_pids(running)
    kills: list[str] = []
    began = time.monotonic()
    traffic = StallTraffic(api, market, workers=4, pause_s=0.01)
    await traffic.start()
    try:
        # 1. while operators write: after a random number of acknowledged changes
        for n in range(KILLS_DURING_WRITES):
            await traffic.until_accepted(len(traffic.accepted()) + rng.randint(1, 15), timeout_s=90)
            await _kill_database(running, rng, f"during writes #{n + 1}", kills)

        # 2. while the districts service starts up (connecting, creating its collections and indexes)
        await asyncio.to_thread(running.kill, "districts")
        restart = asyncio.create_task(asyncio.to_thread(running.start_one, "districts"))
        await asyncio.sleep(rng.uniform(0.2, 2.5))
        await _kill_database(running, rng, "during the start-up of districts", kills)
        await restart
        pids["districts"] = running.components["districts"].process.recorded_pid()

        await traffic.until_accepted(len(traffic.accepted()) + 10, timeout_s=90)
    finally:
        await traffic.stop()

    assert len(kills) == KILLS_DURING_WRITES + 1, kills
    assert service_pids(running) == pids, "a service was restarted to recover"
    for name in SERVICE_DATABASES:
        ready = await api.client.get(f"{running.url(name)}/readyz")
        assert ready.status_code == 200, f"{name} not ready after the kills: {ready.text}"
    kpis = await expect_projection(api, market, timeout_s=90)
    await check_exactly_once(api, running, database, market, traffic, "database SIGKILLed at random moments")
    assert {u.http_status for u in traffic.sent} <= {200, 503, -1}, traffic.outcomes()

    # no collection appeared while the services served
    collections_after = await _collections(database)
    for name in SERVICE_DATABASES:
        new = collections_after[name] - collections_before[name]
        assert not new, f"{name} created collections while serving: {new}"
    print(
        f"[database kills] {len(kills)} kills in {time.monotonic() - began:.0f}s: {'; '.join(kills)}; "
        f"district KPIs {kpis}"
    )
