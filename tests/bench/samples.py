"""Every timed request of a phase, and the figures drawn from them."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.bench.stats import percentile, summary_ms


@dataclass(frozen=True)
class Sample:
    at: float  # seconds from the start of the phase to the start of the request
    op: str
    seconds: float
    ok: bool
    status: int = 0  # HTTP status; 0 when no answer came


@dataclass
class Recorder:
    started: float = field(default_factory=time.perf_counter)
    samples: list[Sample] = field(default_factory=list)

    def add(self, op: str, began: float, ok: bool, status: int = 0) -> None:
        self.samples.append(Sample(began - self.started, op, time.perf_counter() - began, ok, status))

    def by_op(self) -> dict[str, list[Sample]]:
        grouped: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            grouped[sample.op].append(sample)
        return dict(sorted(grouped.items()))

    def summary(self, seconds: float) -> dict[str, dict[str, Any]]:
        """Per operation and in total: requests/s, error rate and latency percentiles (ms)."""
        groups = {**self.by_op(), "all": self.samples}
        figures = {}
        for op, samples in groups.items():
            errors = Counter(str(s.status or "no answer") for s in samples if not s.ok)
            figures[op] = {
                "requests": len(samples),
                "per_s": round(len(samples) / seconds, 1) if seconds else float("nan"),
                "errors": sum(errors.values()),
                "errors_by_status": dict(sorted(errors.items())),
                "error_rate": round(sum(errors.values()) / len(samples), 4) if samples else float("nan"),
                **summary_ms([s.seconds for s in samples]),
            }
        return figures

    def windows(self, width_s: float) -> dict[str, list[tuple[float, float, float]]]:
        """Per operation: (window middle in s, p50 ms, p99 ms) for each window holding requests."""
        series: dict[str, list[tuple[float, float, float]]] = {}
        for op, samples in self.by_op().items():
            buckets: dict[int, list[float]] = defaultdict(list)
            for sample in samples:
                buckets[int(sample.at // width_s)].append(sample.seconds * 1000)
            series[op] = [
                ((index + 0.5) * width_s, percentile(ms, 50), percentile(ms, 99))
                for index, ms in sorted(buckets.items())
            ]
        return series
