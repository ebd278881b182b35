"""The nearest-point benchmark runs end to end on a small scale and cleans up after itself."""

from __future__ import annotations

from types import ModuleType

import pytest
from shops.settings import ShopsSettings

from devkit.testing import LocalMongo, load_service_bench
from shared.mongo import Mongo

pytestmark = pytest.mark.integration


def load_bench() -> ModuleType:
    module: ModuleType = load_service_bench("shops")
    return module


async def test_bench_compares_the_index_with_geonear(mongo: LocalMongo) -> None:
    result = await load_bench().run(mongo.url, points=400, index_queries=60, scan_queries=20, database_queries=12)
    print(result)
    assert result["points"] == 400 and result["index"]["n"] == 60 and result["geonear"]["n"] == 12
    assert result["index"]["p50_ms"] < result["geonear"]["p50_ms"] and result["geonear_p50_speedup"] > 1
    # the linear scan gave the same answers (the run raises otherwise); the city has closures and load figures
    assert result["scan"]["n"] == 20 and result["closures"] > 0 and result["shops"] < 400
    assert result["index_load_s"] > 0 and result["index_memory"]["held_mib"] > 0
    client = Mongo(ShopsSettings(mongo_url=mongo.url))
    try:
        assert not [name for name in await client.client.list_database_names() if name.startswith("shops_bench_")]
    finally:
        await client.close()
