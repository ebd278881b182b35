"""The mixed load with a districts rebuild in the middle: latency and failures per 10-second window.

``python -m tests.bench.rebuild_load [seconds] [rebuild_at_s]`` starts the platform as ``make bench``
does (its own folder, the demo seed), drives the mixed load with 16 clients for ``seconds``
(180 by default) and asks for a rebuild of the district projections at ``rebuild_at_s`` (40).
Every database statement slower than 1.5 s is recorded by the database's own profiler and the
slowest are listed at the end; the processes' logs are kept in the folder it names.

It reproduced a stall that ``make bench`` showed at the start of its soak, right after its
projection phase: about a minute after a rebuild, every statement of every service waited about
2.4 s (or a multiple of it) for 40 to 70 s, while the database's CPU was low. The cause was a read
snapshot the local database held for its whole life (decision 11); this stays to check the fix.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from tests.bench.harness import BenchPlatform, bearer
from tests.bench.load import MixedLoad
from tests.bench.samples import Recorder, Sample

CLIENTS = 16
SLOW_MS = 1500
WINDOW_S = 10


async def _rebuild(http: httpx.AsyncClient, office: str, at_s: float, started: float) -> None:
    await asyncio.sleep(at_s)
    answer = await http.post("/districts/rebuild", headers=bearer(office))
    answer.raise_for_status()
    job = answer.json()["id"]
    print(f"rebuild asked at {time.perf_counter() - started:.1f} s", flush=True)
    while True:
        await asyncio.sleep(2)
        state = (await http.get(f"/districts/rebuild/{job}", headers=bearer(office))).json()["state"]
        if state in ("done", "failed"):
            print(f"rebuild {state} at {time.perf_counter() - started:.1f} s", flush=True)
            return


def _windows(samples: list[Sample]) -> list[str]:
    by_window: dict[int, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_window[int(sample.at // WINDOW_S) * WINDOW_S].append(sample)
    lines = []
    for start in sorted(by_window):
        found = by_window[start]
        took = sorted(s.seconds for s in found if s.op != "nearest")  # nearest is answered from memory
        failed = sum(1 for s in found if s.status >= 500 or s.status == 0)
        if took:
            lines.append(
                f"t={start:4d}s requests {len(found):4d}  database-backed p50 {took[len(took) // 2] * 1000:7.0f} ms"
                f"  max {took[-1] * 1000:7.0f} ms  failed {failed}"
            )
    return lines


async def _slowest(client: AsyncMongoClient[dict[str, Any]], databases: list[str]) -> list[str]:
    lines = []
    for name in databases:
        async for entry in client[name]["system.profile"].find({}).sort("millis", -1).limit(5):
            command = {k: v for k, v in (entry.get("command") or {}).items() if k not in ("lsid", "$clusterTime")}
            lines.append(f"[{name}] {entry.get('ts')} {entry.get('millis')} ms {str(command)[:200]}")
    return lines


async def run(seconds: float, rebuild_at_s: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rebuild-load-"))
    print(f"logs in {workdir}", flush=True)
    bench = BenchPlatform(workdir)
    await bench.start()
    try:
        await bench.seed(())
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(bench.mongo_url)
        databases = [d for d in await client.list_database_names() if d not in ("admin", "local", "config")]
        for name in databases:
            await client[name].command({"profile": 1, "slowms": SLOW_MS})
        limits = httpx.Limits(max_connections=CLIENTS * 2)
        async with httpx.AsyncClient(base_url=bench.api, timeout=30, limits=limits) as http:
            people = await bench.identities(http)
            mix = await MixedLoad.prepare(http, people)
            recorder = Recorder()
            started = time.perf_counter()
            await asyncio.gather(
                mix.run(seconds, CLIENTS, recorder), _rebuild(http, people.office, rebuild_at_s, started)
            )
        print("\n".join(_windows(recorder.samples)))
        print("slowest statements:\n" + "\n".join(await _slowest(client, databases)))
        await client.close()
    finally:
        bench.stop()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 180.0
    rebuild_at_s = float(sys.argv[2]) if len(sys.argv) > 2 else 40.0
    asyncio.run(run(seconds, rebuild_at_s))


if __name__ == "__main__":
    main()
