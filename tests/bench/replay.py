"""The districts projection consumer against a plain aiokafka consume loop, on the same topics.

The projection side is the districts service's own replay (``POST /districts/rebuild``): a fresh
consumer group reads ``markets.events`` and ``shops.events`` from the beginning through the
idempotent consumer (one MongoDB transaction per batch, with the processed ids) and applies every
event to the projections being rebuilt. The baseline is the plain loop of the districts benchmark
(``services/districts/bench.py``): an aiokafka consumer in a fresh group reading and JSON-decoding
as many messages of the same topics. Both times include joining the group; the replay's progress is read every 50 ms from the job, which samples it every 200 ms.
The districts service drops the replaced generation a few seconds after the switch; the baseline and
the next phase wait until reads answer promptly again, so that clean-up disturbs neither.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from districts.settings import DistrictsSettings

from tests.bench.harness import bearer
from tests.bench.service_benches import load
from tests.bench.stats import ratio

POLL_S = 0.05
TIMEOUT_S = 900.0
QUIET_S = 0.25  # a read answered within this counts as the platform being back to normal
QUIET_READS = 5


async def projection_replay(http: httpx.AsyncClient, office: str) -> dict[str, Any]:
    began = time.perf_counter()
    started = await http.post("/districts/rebuild", headers=bearer(office))
    started.raise_for_status()
    job_id, replayed_at = started.json()["id"], None
    while time.perf_counter() - began < TIMEOUT_S:
        job = (await http.get(f"/districts/rebuild/{job_id}", headers=bearer(office))).json()
        now = time.perf_counter()
        total = job.get("events_total")
        if replayed_at is None and total is not None and job["events_replayed"] >= total:
            replayed_at = now
        if job["state"] == "failed":
            raise RuntimeError(f"the districts rebuild failed: {job.get('error')}")
        if job["state"] == "done":
            replayed_at = replayed_at or now
            return {"events": int(total or 0), "replay_s": replayed_at - began, "rebuild_s": now - began}
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"the districts rebuild did not finish in {TIMEOUT_S:.0f}s")


async def settle(http: httpx.AsyncClient, after_s: float) -> float:
    """Seconds until reads answer promptly again after a rebuild (its clean-up runs ``after_s`` later)."""
    began = time.perf_counter()
    await asyncio.sleep(after_s)
    quiet = 0
    while quiet < QUIET_READS and time.perf_counter() - began < TIMEOUT_S:
        read = time.perf_counter()
        await http.get("/districts")
        quiet = quiet + 1 if time.perf_counter() - read < QUIET_S else 0
        await asyncio.sleep(0.2)
    return time.perf_counter() - began


async def projection_vs_plain(http: httpx.AsyncClient, office: str, settings: DistrictsSettings) -> dict[str, Any]:
    """``settings``: the districts service's, so the plain consumer joins and fetches with the same timings."""
    topics = [settings.markets_topic, settings.shops_topic]
    projection = await projection_replay(http, office)
    settled_s = await settle(http, settings.rebuild_drop_delay_s + 1.0)
    plain_loop = load("districts").plain_loop
    plain = await asyncio.wait_for(plain_loop(settings, topics, projection["events"]), TIMEOUT_S)
    projection_rate = projection["events"] / projection["replay_s"] if projection["replay_s"] else 0.0
    plain_rate = projection["events"] / plain["seconds"] if plain["seconds"] else 0.0
    return {
        "topics": list(topics),
        "events": projection["events"],
        "projection_replay_s": round(projection["replay_s"], 2),
        "projection_rebuild_total_s": round(projection["rebuild_s"], 2),
        "settled_after_s": round(settled_s, 1),
        "projection_events_per_s": round(projection_rate),
        "plain_s": round(plain["seconds"], 2),
        "plain_events_per_s": round(plain_rate),
        "ratio": ratio(projection_rate, plain_rate),
    }
