"""How big a benchmark run is: the full `make bench`, the quick one, and the CI smoke run."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scale:
    name: str
    # markets of the demo seed to load; empty: the whole seed (all 21 markets)
    markets: tuple[str, ...]
    backbone_events: int
    backbone_writes: int
    # lengths (in record batches) of the partition at which the broker's fetch latency is measured
    store_batches: tuple[int, ...]
    # tests/bench/database.py: documents of the collection dropped, sessions that come and go
    database_documents: int
    database_sessions: int
    # sequential requests per endpoint and per route (gateway, direct) for the overhead figures
    overhead_requests: int
    # seconds of closed-loop reads per route for the throughput figure
    overhead_throughput_s: float
    # services/shops/bench.py: points of the city, queries from the index, from the linear scan (the
    # baseline) and from $geoNear (0: not run; the local database builds a 2dsphere index slowly)
    nearest_points: int
    nearest_index_queries: int
    nearest_scan_queries: int
    nearest_database_queries: int
    # run the services' own benchmark modules beside the platform-wide figures
    service_benches: bool
    markets_bench_s: float
    # services/gateway/bench.py: sequential requests, closed-loop concurrency levels and seconds per level
    gateway_bench_requests: int
    gateway_bench_levels: tuple[int, ...]
    gateway_bench_step_s: float
    # services/districts/bench.py: synthetic events projected, then freshness samples
    districts_bench_events: int
    districts_bench_samples: int
    # the freshness probe alone (idle), beside four clients writing stall status, beside a light,
    # steady load (clients of the mix), then beside the mixed load at ``concurrency``
    idle_s: float
    writers_s: float
    steady_s: float
    steady_concurrency: int
    load_s: float
    concurrency: int
    soak_s: float
    rss_sample_s: float
    # width of the time windows of the latency-over-time plot
    window_s: float


FULL = Scale(
    name="full",
    markets=(),
    backbone_events=5000,
    backbone_writes=200,
    store_batches=(5_000, 50_000),
    database_documents=20_000,
    database_sessions=1000,
    overhead_requests=200,
    overhead_throughput_s=10.0,
    nearest_points=100_000,
    nearest_index_queries=2000,
    nearest_scan_queries=100,
    nearest_database_queries=0,
    service_benches=True,
    markets_bench_s=10.0,
    gateway_bench_requests=400,
    gateway_bench_levels=(1, 4, 8, 16, 32),
    gateway_bench_step_s=2.5,
    districts_bench_events=3000,
    districts_bench_samples=100,
    idle_s=60.0,
    writers_s=60.0,
    steady_s=90.0,
    steady_concurrency=4,
    load_s=60.0,
    concurrency=16,
    soak_s=600.0,
    rss_sample_s=5.0,
    window_s=10.0,
)

QUICK = Scale(
    name="quick",
    markets=("wagner", "lagosta", "darsena-xxiv-maggio"),
    backbone_events=500,
    backbone_writes=30,
    store_batches=(2_000,),
    database_documents=5_000,
    database_sessions=300,
    overhead_requests=30,
    overhead_throughput_s=3.0,
    nearest_points=100_000,
    nearest_index_queries=1000,
    nearest_scan_queries=50,
    nearest_database_queries=0,
    service_benches=True,
    markets_bench_s=3.0,
    gateway_bench_requests=100,
    gateway_bench_levels=(1, 8),
    gateway_bench_step_s=1.0,
    districts_bench_events=500,
    districts_bench_samples=20,
    idle_s=10.0,
    writers_s=10.0,
    steady_s=20.0,
    steady_concurrency=3,
    load_s=15.0,
    concurrency=12,
    soak_s=20.0,
    rss_sample_s=1.0,
    window_s=2.0,
)

TINY = Scale(
    name="tiny",
    markets=("wagner", "lagosta"),
    backbone_events=200,
    backbone_writes=10,
    store_batches=(1_500,),
    database_documents=500,
    database_sessions=20,
    overhead_requests=5,
    overhead_throughput_s=0.5,
    nearest_points=100,
    nearest_index_queries=20,
    nearest_scan_queries=10,
    nearest_database_queries=3,
    service_benches=False,  # each has its own test (services/<name>/tests/test_bench.py)
    markets_bench_s=1.0,
    gateway_bench_requests=10,
    gateway_bench_levels=(1,),
    gateway_bench_step_s=0.5,
    districts_bench_events=100,
    districts_bench_samples=3,
    idle_s=2.0,
    writers_s=2.0,
    steady_s=3.0,
    steady_concurrency=2,
    load_s=3.0,
    concurrency=6,
    soak_s=3.0,
    rss_sample_s=0.5,
    window_s=1.0,
)


def from_env(environ: dict[str, str] | None = None) -> Scale:
    """``BENCH_QUICK=1`` for the ~2-minute run; ``BENCH_SOAK_S`` sets the soak length in seconds."""
    env = os.environ if environ is None else environ
    scale = QUICK if env.get("BENCH_QUICK", "") not in ("", "0", "false") else FULL
    soak = env.get("BENCH_SOAK_S", "").strip()
    if soak:
        seconds = float(soak)
        if seconds <= 0:
            raise ValueError("BENCH_SOAK_S must be a positive number of seconds")
        scale = replace(scale, soak_s=seconds, rss_sample_s=min(scale.rss_sample_s, max(0.5, seconds / 60)))
    return scale
