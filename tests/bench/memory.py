"""Resident memory and CPU time of the platform's processes, sampled from /proc during the soak."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

# growth in the second half of the soak at most this share of the starting RSS counts as flat
FLAT_SHARE = 0.05
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime (fields 14 and 15 of stat)


class ProcessSampler:
    def __init__(self, pids: dict[str, int], every_s: float) -> None:
        self.pids = pids
        self.every_s = every_s
        self.started = time.perf_counter()
        self.series: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}  # (s, RSS MB)
        self.cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}  # (s, CPU seconds)

    def sample(self) -> None:
        at = time.perf_counter() - self.started
        for name, pid in self.pids.items():
            mb, used = rss_mb(pid), cpu_s(pid)
            if mb is not None and used is not None:
                self.series[name].append((at, mb))
                self.cpu[name].append((at, used))

    async def run(self, stop: asyncio.Event) -> None:
        self.started = time.perf_counter()
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), self.every_s)
            except TimeoutError:
                pass
        self.sample()

    @staticmethod
    def _cpu_share(points: list[tuple[float, float]]) -> float:
        """Share of one core used between the first and the last point, in %."""
        (t0, c0), (t1, c1) = points[0], points[-1]
        return round(100 * (c1 - c0) / (t1 - t0), 1) if t1 > t0 else float("nan")

    def growth(self) -> dict[str, dict[str, Any]]:
        figures = {}
        for name, points in self.series.items():
            if not points:
                continue
            values = [mb for _, mb in points]
            middle = len(values) // 2
            start, end = values[0], values[-1]
            second_half = end - values[middle]
            cpu = self.cpu[name]
            figures[name] = {
                "samples": len(values),
                "start_mb": round(start, 1),
                "end_mb": round(end, 1),
                "peak_mb": round(max(values), 1),
                "growth_mb": round(end - start, 1),
                "end_vs_start": round(end / start, 3) if start else float("nan"),
                "second_half_growth_mb": round(second_half, 1),
                "flat": second_half <= FLAT_SHARE * start,
                "cpu_first_half_pct": self._cpu_share(cpu[: middle + 1]),
                "cpu_second_half_pct": self._cpu_share(cpu[middle:]),
            }
        return figures
