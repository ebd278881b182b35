"""The nearest-point benchmark runs end to end on a small scale and cleans up after itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from shops.settings import ShopsSettings

from shared.mongo import Mongo
from shared.testing import LocalMongo

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[1] / "bench.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shops_bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_bench_compares_the_index_with_geonear(mongo: LocalMongo) -> None:
    result = await load_bench().run(mongo.url, points=400, index_queries=60, database_queries=12)
    print(result)
    assert result["points"] == 400 and result["index"]["n"] == 60 and result["geonear"]["n"] == 12
    assert result["index"]["p50_ms"] < result["geonear"]["p50_ms"] and result["p50_speedup"] > 1
    client = Mongo(ShopsSettings(mongo_url=mongo.url))
    try:
        assert not [name for name in await client.client.list_database_names() if name.startswith("shops_bench_")]
    finally:
        await client.close()
