"""The markets benchmark runs against the service behind an HTTP server and leaves stalls as it found them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from devkit.stack.processes import free_port
from devkit.testing import load_service_bench
from shared.mongo import Mongo

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration


def load_bench() -> ModuleType:
    module: ModuleType = load_service_bench("markets")
    return module


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """``app`` (already started) behind a real HTTP server on a free port, for the time of the block."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_bench_reports_updates_per_second_and_event_latency(markets: Markets) -> None:
    bench = load_bench()
    await markets.create_market("wagner")
    before = [await markets.create_stall("wagner", str(n), holder=f"Banco {n}") for n in (1, 2)]
    await markets.create_stall("wagner", "3")
    async with served(markets.gateway()) as url:
        result = await bench.run(url, markets.token(), 1.0, workers=3, settings=markets.settings)
    print(result)
    assert result["workers"] == 2 and result["refused_by_status"] == {}
    assert result["status_updates"] > 0 and result["status_updates_per_s"] > 0
    assert result["events_seen"] == result["status_updates"] and result["events_missing"] == 0
    assert 0 < result["event_p50_ms"] <= result["event_p99_ms"] < 5000
    after = (await markets.http.get("/markets/wagner/stalls")).json()["items"]
    assert [s["status"] for s in after[:2]] == [s["status"] for s in before]


async def test_write_path_bench_compares_the_service_with_bare_pymongo(markets: Markets) -> None:
    await markets.create_market("wagner")
    before = [await markets.create_stall("wagner", str(n), holder=f"Banco {n}") for n in (1, 2)]
    async with served(markets.app) as url:
        result = await load_bench().write_path(url, markets.token(), markets.settings.mongo_url, 1.0, workers=2)
    print(result)
    assert result["workers"] == 2 and result["service_refused"] == 0
    assert result["service_writes"] > 0 and result["bare_writes"] > 0
    assert result["service_vs_bare"] > 0
    # every write was one more version of its stall, and the stalls got their status back
    after = (await markets.http.get("/markets/wagner/stalls")).json()["items"]
    assert [s["status"] for s in after] == [s["status"] for s in before]
    assert sum(s["version"] - b["version"] for s, b in zip(after, before, strict=True)) >= result["service_writes"]
    client = Mongo(markets.settings)
    try:
        assert not [n for n in await client.client.list_database_names() if n.startswith("markets_write_bench_")]
    finally:
        await client.close()


async def test_spunta_bench_times_assignment_of_40_stalls_to_60_traders(markets: Markets) -> None:
    result = await load_bench().spunta(markets.settings.mongo_url, days=2)
    print(result)
    assert result["stalls"] == 40 and result["candidates"] == 60 and len(result["assign_ms"]) == 2
    # 20 free stalls and 20 assigned, 10 of whose holders opened in time: 30 offered, one trader each
    assert result["offered_last_day"] == 30 and result["assigned_last_day"] == 30
    assert 0 < result["register_p50_ms"] <= result["register_p99_ms"] and result["assign_max_ms"] > 0
