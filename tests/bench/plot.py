"""The PNG beside docs/benchmarks.md: latency over time under the mixed load and the soak, and memory."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import ScalarFormatter

from tests.bench.harness import SERVICES
from tests.bench.outcome import Outcome
from tests.bench.samples import Recorder

COLOURS = {
    "nearest": "tab:blue",
    "stall_status": "tab:orange",
    "service_add": "tab:green",
    "service_remove": "tab:olive",
    "overview": "tab:red",
}


def _latency(axes: Axes, recorder: Recorder, width_s: float, title: str, phase: dict[str, Any] | None) -> None:
    freshness = (phase or {}).get("freshness", {}).get("kpi_points", [])
    if freshness:
        axes.scatter(
            [t for t, _ in freshness],
            [ms for _, ms in freshness],
            marker="x",
            color="black",
            s=16,
            label="freshness: stall write → district KPI visible",
        )
    for op, points in recorder.windows(width_s).items():
        times = [t for t, _, _ in points]
        colour = COLOURS.get(op)
        axes.plot(times, [p50 for _, p50, _ in points], color=colour, label=f"{op} p50")
        axes.plot(times, [p99 for _, _, p99 in points], color=colour, linestyle="--", label=f"{op} p99")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.set_ylabel("latency (ms, log)")
    axes.set_xlabel("seconds")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.18))


def _process_axes(axes: Axes, label: str, title: str) -> None:
    axes.set_ylabel(label)
    axes.set_xlabel("seconds into the soak")
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7, ncol=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))


def save(outcome: Outcome, path: Path) -> None:
    scale = outcome.scale
    panels = 4 if outcome.rss else 1
    figure, axes = plt.subplots(panels, 1, figsize=(11, 4.2 * panels), squeeze=False)
    _latency(
        axes[0][0],
        outcome.load,
        scale.window_s,
        f"Mixed load: {scale.concurrency} clients through the gateway, "
        f"p50 (solid) and p99 (dashed) per {scale.window_s:g} s window",
        outcome.figures.get("load"),
    )
    if outcome.rss:
        soak_window = max(scale.window_s, scale.soak_s / 60)
        _latency(
            axes[1][0],
            outcome.soak,
            soak_window,
            f"Soak: p50 and p99 per {soak_window:g} s window",
            outcome.figures.get("soak"),
        )
        memory, cpu = axes[2][0], axes[3][0]
        for name, points in outcome.rss.series.items():
            style = "-" if name in SERVICES else ":"
            memory.plot([t for t, _ in points], [mb for _, mb in points], linestyle=style, label=name)
            used = outcome.rss.cpu[name]
            shares = [(t1, 100 * (c1 - c0) / (t1 - t0)) for (t0, c0), (t1, c1) in pairwise(used) if t1 > t0]
            cpu.plot([t for t, _ in shares], [pct for _, pct in shares], linestyle=style, label=name)
        _process_axes(
            memory, "RSS (MB)", "Soak: resident memory per process (services solid, broker/store/database dotted)"
        )
        _process_axes(cpu, "CPU (% of one core)", "Soak: CPU per process, per sampling interval")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
