"""Resident memory of the platform's processes, sampled from /proc/<pid>/status during the soak."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

# growth in the second half of the soak at most this share of the starting RSS counts as flat
FLAT_SHARE = 0.05


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class RssSampler:
    def __init__(self, pids: dict[str, int], every_s: float) -> None:
        self.pids = pids
        self.every_s = every_s
        self.started = time.perf_counter()
        self.series: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}

    def sample(self) -> None:
        at = time.perf_counter() - self.started
        for name, pid in self.pids.items():
            mb = rss_mb(pid)
            if mb is not None:
                self.series[name].append((at, mb))

    async def run(self, stop: asyncio.Event) -> None:
        self.started = time.perf_counter()
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), self.every_s)
            except TimeoutError:
                pass
        self.sample()

    def growth(self) -> dict[str, dict[str, Any]]:
        figures = {}
        for name, points in self.series.items():
            if not points:
                continue
            values = [mb for _, mb in points]
            start, end, middle = values[0], values[-1], values[len(values) // 2]
            second_half = end - middle
            figures[name] = {
                "samples": len(values),
                "start_mb": round(start, 1),
                "end_mb": round(end, 1),
                "peak_mb": round(max(values), 1),
                "growth_mb": round(end - start, 1),
                "end_vs_start": round(end / start, 3) if start else float("nan"),
                "second_half_growth_mb": round(second_half, 1),
                "flat": second_half <= FLAT_SHARE * start,
            }
        return figures
