"""Gateway benchmark: what relaying through the gateway costs, and how much it carries.

In one run, the same GET requests go to a service directly and through a gateway process of its
own (started here on a free port, rate limits off, relaying to that service), so both sides meet
the same machine load:

* overhead: sequential requests, direct and relayed in alternating rounds; the ratio of the
  relayed to the direct latency (p50 and p99) and the milliseconds the gateway adds;
* throughput: closed-loop clients at rising concurrency; the most requests per second served
  with p99 under the budget (50 ms), relayed and direct.

The default request reads one stall of the demo market (one document: the cheapest real read, so
the ratio shows the gateway's own cost at its largest). Run as
``python services/gateway/bench.py --service-url http://127.0.0.1:8001`` against a running,
seeded stack, or call ``await run(...)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

ROUND = 50
OWNERS = {"markets": "MARKETS_URL", "shops": "SHOPS_URL", "districts": "DISTRICTS_URL"}


class BenchError(RuntimeError):
    """The benchmark cannot run here (the service does not answer, the gateway did not start)."""


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_quantile(seconds, 0.50) * 1000, 2),
        "p99_ms": round(_quantile(seconds, 0.99) * 1000, 2),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GatewayProcess:
    """``uvicorn gateway.main:app`` on a free port, relaying ``service`` to ``service_url``."""

    def __init__(self, service: str, service_url: str, env: Mapping[str, str] | None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PROFILE": os.environ.get("PROFILE", "test"),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_ENABLED": "false",
            OWNERS[service]: service_url,
            **(env or {}),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the process's lifetime

    async def __aenter__(self) -> GatewayProcess:
        argv = ["-m", "uvicorn", "gateway.main:app", "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    self.log.seek(0)
                    raise BenchError(
                        f"the gateway exited during start-up:\n{self.log.read()[-2000:].decode(errors='replace')}"
                    )
                try:
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise BenchError("the gateway did not start within 60 s")

    async def __aexit__(self, *exc: object) -> None:
        if self.process and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.log.close()


async def _timed_get(client: httpx.AsyncClient, url: str) -> float:
    started = time.perf_counter()
    response = await client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}: {response.text[:200]}")
    return elapsed


async def overhead(client: httpx.AsyncClient, direct: str, relayed: str, requests: int) -> dict[str, Any]:
    for url in (direct, relayed):
        for _ in range(min(ROUND, requests)):
            await _timed_get(client, url)
    times: dict[str, list[float]] = {"direct": [], "gateway": []}
    for _ in range(max(1, requests // ROUND)):
        for name, url in (("direct", direct), ("gateway", relayed)):
            times[name].extend([await _timed_get(client, url) for _ in range(min(ROUND, requests))])
    direct_stats, relayed_stats = _latency(times["direct"]), _latency(times["gateway"])
    return {
        "requests_each": len(times["direct"]),
        "direct": direct_stats,
        "gateway": relayed_stats,
        "overhead_ratio_p50": round(relayed_stats["p50_ms"] / direct_stats["p50_ms"], 2),
        "overhead_ratio_p99": round(relayed_stats["p99_ms"] / direct_stats["p99_ms"], 2),
        "added_ms_p50": round(relayed_stats["p50_ms"] - direct_stats["p50_ms"], 2),
    }


async def _load(url: str, concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                try:
                    latencies.append(await _timed_get(client, url))
                except (BenchError, httpx.TransportError):
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"rps": round(len(latencies) / elapsed, 1), **_latency(latencies), "errors": errors}


async def throughput(
    direct: str, relayed: str, levels: Sequence[int], seconds: float, budget_ms: float
) -> dict[str, Any]:
    steps = []
    best = {"gateway": 0.0, "direct": 0.0}
    for concurrency in levels:
        step: dict[str, Any] = {"concurrency": concurrency}
        for name, url in (("gateway", relayed), ("direct", direct)):
            step[name] = await _load(url, concurrency, seconds)
            if step[name]["p99_ms"] < budget_ms and not step[name]["errors"]:
                best[name] = max(best[name], step[name]["rps"])
        steps.append(step)
        if step["gateway"]["p99_ms"] >= budget_ms and step["direct"]["p99_ms"] >= budget_ms:
            break
    return {
        "steps": steps,
        f"gateway_rps_at_p99_under_{budget_ms:g}ms": best["gateway"],
        f"direct_rps_at_p99_under_{budget_ms:g}ms": best["direct"],
        "throughput_ratio": round(best["gateway"] / best["direct"], 2) if best["direct"] else math.nan,
    }


async def run(
    service_url: str = "http://127.0.0.1:8001",
    path: str = "/markets/wagner/stalls/1",
    *,
    service: str = "markets",
    requests: int = 400,
    levels: Sequence[int] = (1, 4, 8, 16, 32),
    step_s: float = 2.5,
    p99_budget_ms: float = 50.0,
    gateway_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Measure the gateway against ``service_url`` with ``GET path`` (a path of ``service``)."""
    if service not in OWNERS:
        raise BenchError(f"unknown service {service!r}; one of {sorted(OWNERS)}")
    direct = service_url.rstrip("/") + path
    async with httpx.AsyncClient(timeout=10) as probe:
        try:
            await _timed_get(probe, direct)
        except httpx.TransportError as exc:
            raise BenchError(f"the {service} service does not answer at {service_url}: {exc}") from exc
    async with GatewayProcess(service, service_url, gateway_env) as gateway:
        relayed = gateway.url + "/api/v1" + path
        async with httpx.AsyncClient(timeout=10) as client:
            cost = await overhead(client, direct, relayed, requests)
        carried = await throughput(direct, relayed, levels, step_s, p99_budget_ms)
    return {"path": path, "service": service, **cost, **carried}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--service-url", default="http://127.0.0.1:8001")
    parser.add_argument("--service", default="markets", choices=sorted(OWNERS))
    parser.add_argument("--path", default="/markets/wagner/stalls/1")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--step-seconds", type=float, default=2.5)
    args = parser.parse_args()
    report = asyncio.run(
        run(args.service_url, args.path, service=args.service, requests=args.requests, step_s=args.step_seconds)
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
