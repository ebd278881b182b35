"""What one benchmark run measured: the figures of each phase and the raw samples behind the plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.bench.memory import ProcessSampler
from tests.bench.samples import Recorder
from tests.bench.scale import Scale


@dataclass
class Outcome:
    scale: Scale
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    machine: dict[str, Any] = field(default_factory=dict)
    seeded: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    single: Recorder = field(default_factory=Recorder)
    load: Recorder = field(default_factory=Recorder)
    soak: Recorder = field(default_factory=Recorder)
    rss: ProcessSampler | None = None
    seconds: float = 0.0
    start_s: float = 0.0
    seed_s: float = 0.0
