"""The gateway benchmark runs end to end against a service and reports overhead and throughput."""

from __future__ import annotations

import math
from types import ModuleType

import pytest

from devkit.testing import LocalKafka, LocalMongo, load_service_bench

from .conftest import Upstreams

pytestmark = pytest.mark.integration


def load_bench() -> ModuleType:
    module: ModuleType = load_service_bench("gateway")
    return module


async def test_bench_reports_overhead_ratio_and_throughput(
    upstreams: Upstreams, kafka: LocalKafka, mongo: LocalMongo
) -> None:
    bench = load_bench()
    report = await bench.run(
        upstreams.urls["markets"],
        "/markets",
        requests=50,
        levels=(1, 2),
        step_s=0.3,
        # a budget no step misses, so that both levels run however loaded the machine is
        p99_budget_ms=60_000,
        gateway_env={"KAFKA_BOOTSTRAP": kafka.bootstrap, "MONGO_URL": mongo.url, "MONGO_DB": "gateway_bench"},
    )
    assert report["requests_each"] == 50
    assert report["overhead_ratio_p50"] > 1.0 and report["added_ms_p50"] > 0
    assert [step["concurrency"] for step in report["steps"]] == [1, 2]
    assert report["steps"][0]["gateway"]["rps"] > 0 and report["steps"][0]["gateway"]["errors"] == 0
    assert not math.isnan(report["throughput_ratio"])
    with pytest.raises(bench.BenchError, match="does not answer"):
        await bench.run("http://127.0.0.1:9", "/markets")
