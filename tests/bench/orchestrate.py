"""One benchmark run, phase by phase: every figure next to the baseline measured in the same run.

1. backbone: outbox relay and write → consume against raw aiokafka (a broker and database of its own);
   the broker's fetch latency as a partition grows; the local database's drops and sessions (one of its own);
2. the whole platform as real processes, with the demo seed, then with it: gateway vs direct calls,
   the nearest-point index at 100,000 points against a linear scan (on a database of its own), the
   markets benches (status updates, the write path against bare PyMongo), the mixed load
   (after the same mix from a single client) with the freshness probe beside it (and before it, the
   probe alone, beside four writing clients and beside a light steady load), the districts
   projection replay vs a plain consume loop, and the soak with memory sampling.
A phase that fails is reported with its error and the run goes on; the caller decides the exit code.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
from districts.settings import DistrictsSettings
from markets.settings import MarketsSettings

from tests.bench import backbone, broker_store, database, service_benches
from tests.bench.freshness import FreshnessProbe, Probe, find_probe
from tests.bench.harness import SERVICES, BenchPlatform
from tests.bench.load import WRITES_ONLY, MixedLoad
from tests.bench.machine import describe, load_average
from tests.bench.memory import ProcessSampler
from tests.bench.outcome import Outcome
from tests.bench.overhead import gateway_overhead
from tests.bench.plot import save as save_plot
from tests.bench.replay import projection_vs_plain
from tests.bench.report import PLOT_NAME, render
from tests.bench.samples import Recorder
from tests.bench.scale import Scale
from tests.bench.scrape import scrape, server_side

T = TypeVar("T")
# the freshness probe's second load: clients doing nothing but stall status writes (another market's)
WRITING_CLIENTS = 4
MANY_WRITING_CLIENTS = 16


class BenchRun:
    def __init__(self, scale: Scale, workdir: Path, say: Callable[[str], None] = print) -> None:
        self.scale = scale
        self.workdir = workdir
        self.say = say
        self.outcome = Outcome(scale)

    async def phase(self, name: str, work: Awaitable[T]) -> T | None:
        """Run one phase; a failure is recorded with its error instead of ending the run."""
        began = time.perf_counter()
        self.say(f"[bench] {name} …")
        try:
            value = await work
        except Exception as exc:
            self.outcome.failures[name] = f"{type(exc).__name__}: {exc}"
            self.say(f"[bench] {name} FAILED after {time.perf_counter() - began:.1f}s\n{traceback.format_exc()}")
            return None
        self.say(f"[bench] {name} done in {time.perf_counter() - began:.1f}s")
        return value

    async def execute(self) -> Outcome:
        began = time.perf_counter()
        scale, figures = self.scale, self.outcome.figures
        load_at_start = load_average()
        figures["backbone"] = await self.phase(
            "backbone",
            backbone.run(self.workdir / "backbone", events=scale.backbone_events, writes=scale.backbone_writes),
        )
        figures["broker_store"] = await self.phase(
            "broker_store", broker_store.fetch_latency(self.workdir / "broker-store", scale.store_batches)
        )
        figures["database"] = await self.phase(
            "database",
            database.run(
                self.workdir / "database", documents=scale.database_documents, sessions=scale.database_sessions
            ),
        )
        bench = BenchPlatform(self.workdir / "platform")
        self.say("[bench] starting the platform …")
        started = time.perf_counter()
        await bench.start()
        try:
            self.outcome.start_s = time.perf_counter() - started
            self.outcome.seeded = await bench.seed(scale.markets)
            self.outcome.seed_s = time.perf_counter() - started - self.outcome.start_s
            self.say(f"[bench] platform ready in {self.outcome.start_s:.1f}s, demo data in {self.outcome.seed_s:.1f}s")
            self.outcome.machine = {**await describe(bench.mongo_url), "load_at_start": load_at_start}
            limits = httpx.Limits(
                max_connections=scale.concurrency * 2, max_keepalive_connections=scale.concurrency * 2
            )
            async with httpx.AsyncClient(base_url=bench.api, timeout=30, limits=limits) as http:
                await self._on_platform(bench, http)
            self.outcome.machine["load_at_end"] = load_average()
        finally:
            bench.stop()
        self.outcome.seconds = time.perf_counter() - began
        return self.outcome

    async def _on_platform(self, bench: BenchPlatform, http: httpx.AsyncClient) -> None:
        scale, figures = self.scale, self.outcome.figures
        people = await bench.identities(http)
        probe = await find_probe(http, people.operator_market)
        district = probe.district if probe else (await http.get("/districts")).json()["items"][0]["code"]
        figures["gateway"] = await self.phase(
            "gateway",
            gateway_overhead(
                bench, people, district, scale.overhead_requests, scale.overhead_throughput_s, scale.concurrency
            ),
        )
        figures["nearest"] = await self.phase("nearest", service_benches.nearest(self.workdir, scale))
        if scale.service_benches:
            figures["markets"] = await self.phase("markets", service_benches.stall_updates(bench, people, scale))
            figures["write_path"] = await self.phase("write_path", service_benches.write_path(bench, people, scale))
            figures["spunta"] = await self.phase("spunta", service_benches.spunta(bench))
            figures["gateway_bench"] = await self.phase(
                "gateway_bench", service_benches.gateway_relay(bench, people, scale)
            )
            figures["districts_bench"] = await self.phase(
                "districts_bench", service_benches.districts_projection(bench, scale)
            )
        load = Loaded(bench, await MixedLoad.prepare(http, people), people.office, probe, scale.concurrency)
        figures["idle"] = await self.phase("idle", replace(load, concurrency=0).run(scale.idle_s, Recorder()))
        figures["writers"] = await self.phase(
            "writers", self._steady(replace(load, concurrency=WRITING_CLIENTS, weights=WRITES_ONLY), scale.writers_s)
        )
        figures["many_writers"] = await self.phase(
            "many_writers",
            self._steady(replace(load, concurrency=MANY_WRITING_CLIENTS, weights=WRITES_ONLY), scale.writers_s),
        )
        figures["steady"] = await self.phase(
            "steady", self._steady(replace(load, concurrency=scale.steady_concurrency))
        )
        figures["load"] = await self.phase("load", self._mixed(load))
        figures["projection"] = await self.phase(
            "projection", projection_vs_plain(http, people.office, bench.settings(DistrictsSettings))
        )
        figures["soak"] = await self.phase("soak", self._soak(load))

    async def _steady(self, load: Loaded, seconds: float | None = None) -> dict[str, Any]:
        recorder = Recorder()
        figures = await load.run(self.scale.steady_s if seconds is None else seconds, recorder)
        return {**figures, "operations": recorder.summary(figures["seconds"])}

    async def _mixed(self, load: Loaded) -> dict[str, Any]:
        single_s = await load.mix.run(max(1.0, self.scale.load_s / 4), 1, self.outcome.single)
        figures = await load.run(self.scale.load_s, self.outcome.load)
        return {
            **figures,
            "operations": self.outcome.load.summary(figures["seconds"]),
            "single_client": self.outcome.single.summary(single_s),
        }

    async def _soak(self, load: Loaded) -> dict[str, Any]:
        sampler = self.outcome.rss = ProcessSampler(load.bench.pids(), self.scale.rss_sample_s)
        stop = asyncio.Event()
        sampling = asyncio.create_task(sampler.run(stop))
        try:
            figures = await load.run(self.scale.soak_s, self.outcome.soak)
        finally:
            stop.set()
            await sampling
        return {**figures, "operations": self.outcome.soak.summary(figures["seconds"]), "memory": sampler.growth()}


@dataclass
class Loaded:
    """The mixed load with the freshness probe beside it (when a district allows one), and what the
    services' own metrics say about the same time."""

    bench: BenchPlatform
    mix: MixedLoad
    office: str
    probe: Probe | None
    concurrency: int
    # another mix of the same operations (None: the mixed load's)
    weights: dict[str, int] | None = None

    async def run(self, seconds: float, recorder: Recorder) -> dict[str, Any]:
        """The load (none at all with ``concurrency`` 0) for ``seconds``, the probe beside it."""
        services = {name: self.bench.direct(name) for name in SERVICES}
        async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=self.bench.api, timeout=30) as api:
            before = await scrape(http, services)
            mixed = (
                self.mix.run(seconds, self.concurrency, recorder, weights=self.weights)
                if self.concurrency
                else _idle(seconds)
            )
            if self.probe is None:
                elapsed = await mixed
                freshness: dict[str, Any] = {"skipped": "no district holds stalls outside the operator's market"}
            else:
                probe = FreshnessProbe(api, self.office, self.probe)
                fresh = probe.run(seconds, self.bench.settings(), MarketsSettings().events_topic)
                elapsed, freshness = await asyncio.gather(mixed, fresh)
            after = await scrape(http, services)
        return {
            "seconds": round(elapsed, 1),
            "concurrency": self.concurrency,
            "freshness": freshness,
            "server_side": server_side(before, after),
        }


async def _idle(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


async def run_bench(scale: Scale, docs: Path, say: Callable[[str], None] = print) -> Outcome:
    """Run every phase and write ``benchmarks.md`` and its plot into ``docs``.

    The processes' logs stay in a temporary folder that is removed after a clean run (unless
    ``BENCH_KEEP_LOGS=1``) and kept (and named) after a run with a failed phase.
    """
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    outcome = await BenchRun(scale, workdir, say).execute()
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "benchmarks.md").write_text(render(outcome))
    save_plot(outcome, docs / PLOT_NAME)
    if outcome.failures or os.environ.get("BENCH_KEEP_LOGS", "") not in ("", "0", "false"):
        say(f"[bench] logs of the run kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome
