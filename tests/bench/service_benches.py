"""The services' own benchmark modules (``services/<name>/bench.py``), run against the platform."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from markets.settings import MarketsSettings

from tests.bench.harness import BenchPlatform, Identities
from tests.bench.scale import Scale

ROOT = Path(__file__).resolve().parents[2]


class Missing(Exception):
    """The service has no benchmark module in this checkout."""


def load(service: str) -> ModuleType:
    path = ROOT / "services" / service / "bench.py"
    spec = importlib.util.spec_from_file_location(f"{service}_bench", path)
    if not path.exists() or spec is None or spec.loader is None:
        raise Missing(f"services/{service}/bench.py is not in this checkout")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def nearest(bench: BenchPlatform, scale: Scale) -> dict[str, Any]:
    """shops: the in-process nearest-open-point index against plain ``$geoNear``, same database server."""
    figures: dict[str, Any] = await load("shops").run(
        bench.mongo_url,
        points=scale.nearest_points,
        index_queries=scale.nearest_index_queries,
        database_queries=scale.nearest_database_queries,
    )
    return figures


async def stall_updates(bench: BenchPlatform, people: Identities, scale: Scale) -> dict[str, Any]:
    """markets: the operator's stall status updates per second and their events on the topic."""
    figures: dict[str, Any] = await load("markets").run(
        bench.gateway,
        people.operator,
        scale.markets_bench_s,
        market_id=people.operator_market,
        settings=MarketsSettings(kafka_bootstrap=bench.kafka_bootstrap),
    )
    return figures
