"""The soak's mixed load over time: does a stall change take longer to reach its KPI the longer it runs?

``python -m tests.bench.soak_trend`` starts the platform with the quick run's seed, drives the soak's
mixed load (``CLIENTS``, 12 by default) for ``TOTAL_S`` seconds (420) and runs the freshness probe
in consecutive windows of ``WINDOW_S`` (60) meanwhile. For each window it prints write → KPI
p50/p95/p99/max, write → event on the topic, and the services' pipeline over the window (events
published and their age at the broker's acknowledgement; events applied, their age at commit, the
consumers' batches): a figure that grows from window to window is something that grows with the
data (a partition, a collection), not with the load.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from markets.settings import MarketsSettings

from tests.bench.fresh import probing
from tests.bench.freshness import FreshnessProbe
from tests.bench.machine import load_average
from tests.bench.samples import Recorder
from tests.bench.scrape import scrape, server_side


async def measure(total_s: float, window_s: float, clients: int) -> None:
    async with probing("soak-trend-") as ready:
        bench, http, people = ready.bench, ready.http, ready.people
        services = {name: bench.direct(name) for name in ("districts", "markets", "gateway")}
        recorder = Recorder()
        driving = asyncio.create_task(ready.load.run(total_s, clients, recorder))
        began = time.perf_counter()
        while time.perf_counter() - began < total_s - window_s / 2:
            before = await scrape(http, services)
            found = await FreshnessProbe(http, people.office, ready.probe).run(
                window_s, bench.settings(), MarketsSettings().events_topic
            )
            side = server_side(before, await scrape(http, services))
            kpi, event = found["write_to_kpi"], found["write_to_event"]
            print(
                f"[{time.perf_counter() - began:5.0f} s] KPI n={kpi['n']} p50/p95/p99/max {kpi['p50_ms']:.0f}/"
                f"{kpi['p95_ms']:.0f}/{kpi['p99_ms']:.0f}/{kpi['max_ms']:.0f} ms; event p50/p99 "
                f"{event['p50_ms']:.0f}/{event['p99_ms']:.0f}; misses {found['not_visible_in_30s']}; "
                f"load average {load_average()}\n    pipeline {side['pipeline']}\n    queued {side['queues_at_end']}",
                flush=True,
            )
        elapsed = await driving
        print(f"load: {recorder.summary(elapsed)['all']}", flush=True)


def main() -> int:
    env = os.environ
    asyncio.run(
        measure(float(env.get("TOTAL_S", "420")), float(env.get("WINDOW_S", "60")), int(env.get("CLIENTS", "12")))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
