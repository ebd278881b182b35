"""The freshness phase alone: stall change → district KPI, idle, beside writing clients, in the soak.

``python -m tests.bench.fresh`` starts the platform with part of the demo seed (the quick run's
markets), finds the probe's district, then runs the probe (``tests.bench.freshness``) for
``FRESH_S`` seconds (30 by default) in each of: the platform idle; 4 and 16 operators flipping
stall status of another market as fast as they are answered; the mixed load of the soak (12
clients). It prints one line per load with p50/p95/p99/max of write → KPI visible, write → event
on the topic and the raw broker round trip, and writes them as JSON to ``FRESH_OUT`` if set.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from markets.settings import MarketsSettings

from tests.bench.freshness import FreshnessProbe, Probe, find_probe
from tests.bench.harness import BenchPlatform, Identities
from tests.bench.load import WRITES_ONLY, MixedLoad
from tests.bench.machine import load_average
from tests.bench.samples import Recorder
from tests.bench.scale import QUICK
from tests.bench.scrape import scrape, server_side

LOADS: tuple[tuple[str, int, dict[str, int] | None], ...] = (
    ("idle", 0, None),
    ("4 writing clients", 4, WRITES_ONLY),
    ("16 writing clients", 16, WRITES_ONLY),
    ("soak (mixed load, 12 clients)", 12, None),
)


async def _beside(load: MixedLoad, clients: int, weights: dict[str, int] | None, seconds: float) -> dict[str, Any]:
    if clients == 0:
        await asyncio.sleep(seconds)
        return {"requests": 0}
    recorder = Recorder()
    elapsed = await load.run(seconds, clients, recorder, weights=weights)
    everything = recorder.summary(elapsed)["all"]
    return {"requests_per_s": everything["per_s"], "errors": everything["errors"]}


@dataclass(frozen=True)
class Probing:
    """A started platform with the quick run's seed, ready to probe: its client, people, the probe's
    stalls and the mixed load."""

    bench: BenchPlatform
    http: httpx.AsyncClient
    people: Identities
    probe: Probe
    load: MixedLoad


@asynccontextmanager
async def probing(prefix: str) -> AsyncIterator[Probing]:
    bench = BenchPlatform(Path(tempfile.mkdtemp(prefix=prefix)) / "platform")
    await bench.start()
    try:
        await bench.seed(QUICK.markets)
        async with httpx.AsyncClient(base_url=bench.api, timeout=30) as http:
            people = await bench.identities(http)
            probe = await find_probe(http, people.operator_market)
            if probe is None:
                raise RuntimeError("no district holds stalls outside the operator's market")
            yield Probing(bench, http, people, probe, await MixedLoad.prepare(http, people))
    finally:
        bench.stop()


async def measure(seconds: float, say: Any = print) -> list[dict[str, Any]]:
    results = []
    async with probing("fresh-") as ready:
        bench, http, people, probe, load = ready.bench, ready.http, ready.people, ready.probe, ready.load
        for name, clients, weights in LOADS:
            began_load = load_average()
            services = {"districts": bench.direct("districts"), "markets": bench.direct("markets")}
            before = await scrape(http, services)
            fresh = FreshnessProbe(http, people.office, probe)
            figures, beside = await asyncio.gather(
                fresh.run(seconds, bench.settings(), MarketsSettings().events_topic),
                _beside(load, clients, weights, seconds),
            )
            figures.pop("kpi_points", None)
            figures["pipeline"] = server_side(before, await scrape(http, services))["pipeline"]
            row = {"load": name, "clients": clients, **beside, "load_average": [began_load, load_average()]}
            row.update(figures)
            results.append(row)
            kpi, event, raw = figures["write_to_kpi"], figures["write_to_event"], figures["raw_produce_to_seen"]
            read = figures["district_read"]
            say(
                f"[fresh] {name}: n={kpi['n']} KPI p50/p95/p99/max {kpi['p50_ms']:.0f}/{kpi['p95_ms']:.0f}/"
                f"{kpi['p99_ms']:.0f}/{kpi['max_ms']:.0f} ms; event p50/p99 {event['p50_ms']:.0f}/"
                f"{event['p99_ms']:.0f}; raw p50/p99 {raw['p50_ms']:.0f}/{raw['p99_ms']:.0f}; "
                f"read p50/p99 {read['p50_ms']:.0f}/{read['p99_ms']:.0f}; "
                f"misses {figures['not_visible_in_30s']}; {beside}; {figures['pipeline']}"
            )
    return results


def main() -> int:
    seconds = float(os.environ.get("FRESH_S", "30"))
    began = time.perf_counter()
    results = asyncio.run(measure(seconds, lambda line: print(line, flush=True)))
    out = os.environ.get("FRESH_OUT")
    if out:
        Path(out).write_text(json.dumps(results, indent=1))
    print(f"[fresh] done in {time.perf_counter() - began:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
