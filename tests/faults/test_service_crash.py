"""A service SIGKILLed mid-relay (markets) or mid-consume (districts) and restarted: no loss, no double effect."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from devkit.testing import Platform

from .conftest import (
    STATUS_CHANGED,
    Api,
    Database,
    StallTraffic,
    check_exactly_once,
    consumed,
    expect_projection,
    flip_until,
    open_market,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def _kill_with_backlog(platform: Platform, database: Database, timeout_s: float = 15) -> int:
    """SIGKILL the markets service as soon as its outbox holds events not yet published."""
    deadline = time.monotonic() + timeout_s
    backlog = 0
    while backlog == 0 and time.monotonic() < deadline:
        backlog = await database.outbox_backlog("markets")
    platform.kill("markets")
    return backlog


async def _kill_mid_consume(platform: Platform, database: Database, since: datetime, timeout_s: float = 60) -> int:
    """SIGKILL the districts service as soon as its consumer has applied the first of the new events."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        processed = await database.processed_since(since, STATUS_CHANGED)
        if processed:
            platform.kill("districts")
            return processed
        await asyncio.sleep(0.005)
    raise AssertionError("the restarted districts service consumed nothing")


async def test_markets_killed_mid_relay_loses_nothing(running: Platform, api: Api, database: Database) -> None:
    market = await open_market(api, "relay", (9.05, 45.44), stalls=8)
    await expect_projection(api, market)
    traffic = StallTraffic(api, market, workers=4, pause_s=0.01)
    await traffic.start()
    try:
        await traffic.until_accepted(25)
        backlog = await _kill_with_backlog(running, database)
        left_behind = await database.outbox_backlog("markets")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(running.start_one, "markets")
        await traffic.until_accepted(len(traffic.accepted()) + 25, timeout_s=90)
    finally:
        await traffic.stop()
    kpis = await expect_projection(api, market, timeout_s=90)
    await check_exactly_once(api, running, database, market, traffic, "markets SIGKILLed mid-relay")
    assert await database.outbox_backlog("markets") == 0
    print(
        f"[markets SIGKILLed mid-relay] unpublished events at the kill {backlog} "
        f"(still in the outbox after it {left_behind}), district KPIs {kpis}"
    )


async def test_districts_killed_mid_consume_applies_everything_once(
    running: Platform, api: Api, database: Database
) -> None:
    market = await open_market(api, "consume", (9.05, 45.46), stalls=8)
    await expect_projection(api, market)
    await asyncio.to_thread(running.kill, "districts")
    since = datetime.now(UTC)
    traffic = await flip_until(api, market, accepted=120, workers=4, timeout_s=90)
    burst = len(traffic.accepted())

    running.components["districts"].process.start()
    processed_at_kill = await _kill_mid_consume(running, database, since)
    await asyncio.to_thread(running.start_one, "districts")

    kpis = await expect_projection(api, market, timeout_s=90)
    await check_exactly_once(api, running, database, market, traffic, "districts SIGKILLed mid-consume")
    skipped = (await consumed(api, running)).get("duplicate", 0)
    print(
        f"[districts SIGKILLed mid-consume] burst {burst}, processed when killed {processed_at_kill}, "
        f"redelivered and skipped as duplicates after the restart {skipped:.0f}, district KPIs {kpis}"
    )
