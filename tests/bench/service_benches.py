"""The services' own benchmark modules (``services/<name>/bench.py``), run against the platform."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from markets.settings import MarketsSettings

from devkit.testing import LocalMongo
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


async def nearest(workdir: Path, scale: Scale) -> dict[str, Any]:
    """shops: the in-process nearest-open-point index at city scale against a linear scan.

    On a database server of its own, in memory: 100,000 offers written and read whole three times
    would hold up the platform's on-disk server (and everything waiting on it) for minutes.
    """
    mongo = LocalMongo(workdir / "nearest-mongo")
    mongo.start()
    try:
        figures: dict[str, Any] = await load("shops").run(
            mongo.url,
            points=scale.nearest_points,
            index_queries=scale.nearest_index_queries,
            scan_queries=scale.nearest_scan_queries,
            database_queries=scale.nearest_database_queries,
        )
    finally:
        mongo.stop()
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


@contextlib.contextmanager
def paused(pid: int | None) -> Iterator[None]:
    """The process stopped (SIGSTOP) meanwhile, and continued afterwards whatever happens."""
    if pid is not None:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGCONT)


async def write_path(bench: BenchPlatform, people: Identities, scale: Scale) -> dict[str, Any]:
    """markets: status writes/s straight to the service against a bare PyMongo loop, same database server;
    then both again with the districts service stopped, so that its projection of the writes' events
    (transactions on the same single database process) does not compete: the markets service, its relay
    and the broker against the bare loop alone."""
    module = load("markets")

    async def run() -> dict[str, Any]:
        figures: dict[str, Any] = await module.write_path(
            bench.direct("markets"),
            people.operator,
            bench.mongo_url,
            scale.markets_bench_s,
            market_id=people.operator_market,
        )
        return figures

    figures = await run()
    with paused(bench.pids().get("districts")):
        alone = await run()
    keep = ("service_writes_per_s", "bare_writes_per_s", "service_vs_bare", "service_db_operations_per_write")
    return {**figures, **{f"districts_stopped_{key}": alone[key] for key in keep}}


async def spunta(bench: BenchPlatform) -> dict[str, Any]:
    """markets: the daily spunta of a market of 40 stalls and 60 traders, its use cases on the platform's database."""
    figures: dict[str, Any] = await load("markets").spunta(bench.mongo_url, stalls=40, candidates=60)
    return figures


async def gateway_relay(bench: BenchPlatform, people: Identities, scale: Scale) -> dict[str, Any]:
    """gateway: a gateway process of the bench's own relaying one stall read, against the markets service."""
    env = {k: v for k, v in bench.service_env().items() if k not in ("PORT", "PROFILE")}
    figures: dict[str, Any] = await load("gateway").run(
        bench.direct("markets"),
        f"/markets/{people.operator_market}/stalls/1",
        service="markets",
        requests=scale.gateway_bench_requests,
        levels=scale.gateway_bench_levels,
        step_s=scale.gateway_bench_step_s,
        gateway_env={**env, "MONGO_DB": "gateway_bench"},
    )
    return figures


async def districts_projection(bench: BenchPlatform, scale: Scale) -> dict[str, Any]:
    """districts: its live consumer on synthetic events against a plain loop, on the platform's broker."""
    figures: dict[str, Any] = await load("districts").run(
        bench.kafka_bootstrap,
        bench.mongo_url,
        events=scale.districts_bench_events,
        samples=scale.districts_bench_samples,
    )
    return figures
