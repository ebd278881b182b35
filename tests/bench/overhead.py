"""The gateway against calling the service directly: the same requests, the same token, one after
another (latency) and from a closed loop of concurrent clients (throughput)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.bench.harness import BenchPlatform, Identities, bearer
from tests.bench.samples import Recorder
from tests.bench.stats import ratio, summary_ms

WARM_UP = 10


@dataclass(frozen=True)
class Call:
    name: str
    service: str
    method: str
    path: str
    params: dict[str, str | float] | None = None


async def _stall(http: httpx.AsyncClient, api: str, market: str) -> dict[str, Any]:
    listed = (await http.get(f"{api}/markets/{market}/stalls", params={"limit": 500})).json()["items"]
    return next(s for s in listed if s["holder"] and s["status"] in ("open", "closed"))


async def gateway_overhead(
    bench: BenchPlatform, people: Identities, district: str, requests: int, throughput_s: float, concurrency: int
) -> dict[str, Any]:
    api, market = bench.api, people.operator_market
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        stall = await _stall(http, api, market)
        calls = [
            Call("market (markets)", "markets", "GET", f"/markets/{market}"),
            Call(
                "nearest (shops)",
                "shops",
                "GET",
                "/services/nearest",
                {"service": "ritiro_pacchi", "lon": 9.19, "lat": 45.47},
            ),
            Call("district (districts)", "districts", "GET", f"/districts/{district}"),
        ]
        recorder = Recorder()

        async def send(route: str, call: Call, record: bool) -> None:
            base = api if route == "gateway" else bench.direct(call.service)
            began = time.perf_counter()
            response = await http.request(call.method, base + call.path, params=call.params)
            if record:
                recorder.add(f"{call.name}|{route}", began, response.status_code == 200, response.status_code)

        async def flip(route: str, record: bool) -> None:
            base = api if route == "gateway" else bench.direct("markets")
            target = "closed" if stall["status"] == "open" else "open"
            headers = {**bearer(people.operator), "If-Match": f'"{stall["version"]}"'}
            path = f"{base}/markets/{market}/stalls/{stall['number']}/status"
            began = time.perf_counter()
            response = await http.put(path, json={"status": target, "note": "gateway overhead"}, headers=headers)
            if record:
                recorder.add(
                    f"stall status write (markets)|{route}", began, response.status_code == 200, response.status_code
                )
            if response.status_code == 200:
                stall.update(response.json())

        warm_up = min(WARM_UP, requests)
        for turn in range(warm_up + requests):
            routes = ("gateway", "direct") if turn % 2 == 0 else ("direct", "gateway")
            for route in routes:
                for call in calls:
                    await send(route, call, turn >= warm_up)
                await flip(route, turn >= warm_up)
        latency = _latency_table(recorder)
        throughput = {
            route: await _closed_loop(http, route, calls[0], bench, concurrency, throughput_s)
            for route in ("gateway", "direct")
        }
    return {
        "requests_per_endpoint": requests,
        "latency": latency,
        "throughput": {
            "endpoint": calls[0].name,
            "concurrency": concurrency,
            "gateway_per_s": throughput["gateway"],
            "direct_per_s": throughput["direct"],
            "ratio": ratio(throughput["gateway"], throughput["direct"]),
        },
    }


def _latency_table(recorder: Recorder) -> dict[str, dict[str, Any]]:
    grouped = recorder.by_op()
    table = {}
    for name in dict.fromkeys(key.split("|")[0] for key in grouped):
        gateway = summary_ms([s.seconds for s in grouped[f"{name}|gateway"]])
        direct = summary_ms([s.seconds for s in grouped[f"{name}|direct"]])
        errors = sum(not s.ok for s in grouped[f"{name}|gateway"] + grouped[f"{name}|direct"])
        table[name] = {
            "gateway": gateway,
            "direct": direct,
            "errors": errors,
            "p50_ratio": ratio(gateway["p50_ms"], direct["p50_ms"]),
            "p99_ratio": ratio(gateway["p99_ms"], direct["p99_ms"]),
            "p50_added_ms": round(gateway["p50_ms"] - direct["p50_ms"], 2),
        }
    return table


async def _closed_loop(
    http: httpx.AsyncClient, route: str, call: Call, bench: BenchPlatform, concurrency: int, seconds: float
) -> float:
    base = bench.api if route == "gateway" else bench.direct(call.service)
    done = 0
    until = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < until:
            response = await http.request(call.method, base + call.path, params=call.params)
            done += response.status_code == 200

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return round(done / (time.perf_counter() - started), 1)
