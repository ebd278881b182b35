"""The local broker on its S3 store: fetch latency on an empty partition and on a long one.

The broker lists every record batch of a partition on each fetch that has something to read, so
a fetch's cost grows with the partition. This phase writes one record at a time to a partition and
times each from the producer's send to the consumer's receipt (the consumer waits at the end of the
partition, with the services' fetch wait), first on an empty partition, then after filling the same
partition with ``batches`` single-record batches, as they are and after the compaction that a
start of the stack runs (the guard: old batches merged, docs/decisions/0003). It also samples the
broker's and the store's CPU and memory while it runs.

Run alone: ``python -m tests.bench.broker_store [batches …]`` (default 5000 50000).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devkit.stack.compaction import compact_store
from devkit.testing import LocalKafka
from shared.kafka import end_offsets, ensure_topics
from shared.settings import ServiceSettings
from tests.bench.memory import ProcessSampler
from tests.bench.stats import summary_ms

TOPIC = "bench.store"
STARVED_S = 10


class Starved(RuntimeError):
    """A consumer at the end of the partition received nothing within ``STARVED_S``."""


async def _latencies(bootstrap: str, samples: int, fetch_wait_ms: int) -> list[float]:
    tp = TopicPartition(TOPIC, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_wait_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await consumer.start()
    await producer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, (await end_offsets(ServiceSettings(kafka_bootstrap=bootstrap), [tp]))[tp])
        took: list[float] = []
        for n in range(samples):
            value = b"sample-%d" % n
            sent = time.perf_counter()
            await producer.send_and_wait(TOPIC, value, partition=0)
            deadline = time.monotonic() + STARVED_S
            while value not in {r.value for r in took_records(await consumer.getmany(tp, timeout_ms=1000))}:
                if time.monotonic() > deadline:
                    raise Starved(f"a consumer at the end of the partition received nothing in {STARVED_S} s")
            took.append(time.perf_counter() - sent)
            await asyncio.sleep(0.02)
        return took
    finally:
        await producer.stop()
        await consumer.stop()


def took_records(batches: dict[TopicPartition, list[Any]]) -> list[Any]:
    return [record for records in batches.values() for record in records]


def _partition(workdir: Path) -> Path:
    return workdir / "s3" / "tansu" / "clusters" / "tansu_cluster" / "topics" / TOPIC / "partitions" / "0000000000"


def _objects(workdir: Path) -> int:
    return sum(1 for _ in (_partition(workdir) / "records").glob("*.batch"))


def _length(workdir: Path) -> int:
    """The partition's length in offsets: its high watermark."""
    return int(json.loads((_partition(workdir) / "watermark.json").read_text())["high"])


def _fill(workdir: Path, batches: int) -> None:
    """Make the partition ``batches`` single-record batches longer.

    Producing them one by one would take most of an hour on a loaded 2-core machine (about 50 per
    second: every batch is an object and a watermark update), and what is measured here is reading,
    not writing. So, with the broker and the store stopped, the newest batch the broker wrote (a
    single record) is copied under the keys of the offsets that follow (the broker takes a batch's
    base offset from its key) and the partition's watermark moved past them; then both start again
    and the store indexes the files it finds, as after any restart.
    """
    partition = _partition(workdir)
    records = sorted((partition / "records").glob("*.batch"))
    newest = records[-1].read_bytes()
    end = _length(workdir)
    for offset in range(end, end + batches):
        (partition / "records" / f"{offset:0>20}.batch").write_bytes(newest)
    watermark = json.loads((partition / "watermark.json").read_text())
    watermark["high"] = end + batches
    (partition / "watermark.json").write_text(json.dumps(watermark, separators=(",", ":")))


async def _measure(kafka: LocalKafka, samples: int, fetch_wait_ms: int, empty: dict[str, Any] | None) -> dict[str, Any]:
    """Restart the broker and its store (without compacting) and measure; ``empty`` is the baseline."""
    started = time.perf_counter()
    kafka.start()
    restart_s = round(time.perf_counter() - started, 1)
    pids = {part.process.name: part.process.recorded_pid() for part in kafka.parts}
    sampler = ProcessSampler({name: pid for name, pid in pids.items() if pid is not None}, every_s=1.0)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    try:
        figures = summary_ms(await _latencies(kafka.bootstrap, samples, fetch_wait_ms))
    except Starved:
        return {"restart_s": restart_s, "starved": True}
    finally:
        stop.set()
        await sampling
        kafka.stop()
    use = sampler.growth()
    return {
        **figures,
        "vs_empty_p50": round(figures["p50_ms"] / empty["p50_ms"], 2) if empty else 1.0,
        "vs_empty_p99": round(figures["p99_ms"] / empty["p99_ms"], 2) if empty else 1.0,
        "restart_s": restart_s,
        **{f"{name}_cpu_pct": f["cpu_first_half_pct"] for name, f in use.items()},
        **{f"{name}_rss_mb": f["peak_mb"] for name, f in use.items()},
    }


async def fetch_latency(workdir: Path, sizes: tuple[int, ...], samples: int = 50) -> dict[str, Any]:
    """Latency on an empty partition, then with the partition made ``sizes[i]`` batches long, in turn:
    first as the broker wrote them, then after the compaction a start of the stack runs
    (:mod:`devkit.stack.compaction`, timed here). A length at which a consumer starves is reported
    as such."""
    kafka = LocalKafka(workdir, durable=True, compact=False, compact_every_s=0)  # compacts when it says so
    settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap, kafka_topic_partitions=1)
    wait = settings.kafka_fetch_max_wait_ms
    kafka.start()
    try:
        await ensure_topics(settings, [TOPIC])
    finally:
        kafka.stop()
    objects = _objects(workdir)
    empty = await _measure(kafka, samples, wait, None)
    rows: list[dict[str, Any]] = [{"batches": 0, "objects": objects, "guard": "none", **empty}]
    for size in sizes:
        _fill(workdir, size - _length(workdir))
        rows.append(
            {
                "batches": size,
                "objects": _objects(workdir),
                "guard": "none",
                **await _measure(kafka, samples, wait, empty),
            }
        )
        before = _objects(workdir)
        report = compact_store(workdir / "s3" / "tansu")
        rows.append(
            {
                "batches": size,
                "objects": _objects(workdir),
                "guard": "compacted",
                "objects_before": before,
                "compaction_s": round(report.seconds, 2),
                **await _measure(kafka, samples, wait, empty),
            }
        )
    return {"fetch_wait_ms": wait, "samples": samples, "sizes": rows}


def main() -> None:
    sizes = tuple(int(size) for size in sys.argv[1:]) or (5_000, 50_000)
    with tempfile.TemporaryDirectory() as workdir:
        print(json.dumps(asyncio.run(fetch_latency(Path(workdir), sizes)), indent=1))


if __name__ == "__main__":
    main()
