"""`make bench`: run every benchmark phase and write docs/benchmarks.md and docs/benchmarks-latency.png.

``BENCH_QUICK=1`` runs a ~2-minute version on part of the demo data; ``BENCH_SOAK_S`` sets the
soak's length in seconds (10 minutes by default); ``BENCH_KEEP_LOGS=1`` keeps the processes' logs
after a clean run too. Exits 1 if a phase failed (the report says which).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.bench.orchestrate import run_bench
from tests.bench.scale import from_env

DOCS = Path(__file__).resolve().parents[2] / "docs"


def main() -> int:
    scale = from_env()
    print(f"[bench] {scale.name} run, soak {scale.soak_s:g} s; results in {DOCS / 'benchmarks.md'}", flush=True)
    outcome = asyncio.run(run_bench(scale, DOCS, lambda line: print(line, flush=True)))
    print(f"[bench] finished in {outcome.seconds / 60:.1f} minutes", flush=True)
    for phase, error in outcome.failures.items():
        print(f"[bench] {phase} failed: {error}", file=sys.stderr)
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
