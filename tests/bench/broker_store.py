"""The local broker on its S3 store: fetch latency on an empty partition and on a long one.

The broker lists every record batch of a partition on each fetch that has something to read, so
a fetch's cost grows with the partition. This phase writes one record at a time to a partition and
times each from the producer's send to the consumer's receipt (the consumer waits at the end of the
partition, with the services' fetch wait), first on an empty partition, then after filling the same
partition with ``batches`` single-record batches. It also samples the broker's and the store's CPU
and memory while it runs.

Run alone: ``python -m tests.bench.broker_store [batches]``.
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

from devkit.testing import LocalKafka
from shared.kafka import ensure_topics
from shared.settings import ServiceSettings
from tests.bench.memory import ProcessSampler
from tests.bench.stats import summary_ms

TOPIC = "bench.store"
STARVED_S = 10


async def _latencies(bootstrap: str, samples: int, fetch_wait_ms: int) -> list[float]:
    tp = TopicPartition(TOPIC, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_wait_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await consumer.start()
    await producer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        while True:  # read what is there: the next record is the first one timed
            if not await consumer.getmany(tp, timeout_ms=1000, max_records=10_000):
                break
        sent: dict[bytes, float] = {}
        took: list[float] = []
        for n in range(samples):
            value = b"sample-%d" % n
            sent[value] = time.perf_counter()
            await producer.send_and_wait(TOPIC, value, partition=0)
            deadline = time.monotonic() + STARVED_S
            while value not in {r.value for r in took_records(await consumer.getmany(tp, timeout_ms=1000))}:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"a consumer at the end of the partition starved: nothing in {STARVED_S} s")
            took.append(time.perf_counter() - sent[value])
            await asyncio.sleep(0.02)
        return took
    finally:
        await producer.stop()
        await consumer.stop()


def took_records(batches: dict[TopicPartition, list[Any]]) -> list[Any]:
    return [record for records in batches.values() for record in records]


def _fill(workdir: Path, batches: int) -> None:
    """Make the partition ``batches`` single-record batches longer.

    Producing them one by one would take most of an hour on a loaded 2-core machine (about 50 per
    second: every batch is an object and a watermark update), and what is measured here is reading,
    not writing. So, with the broker and the store stopped, the one batch the broker wrote is copied
    under the keys of the offsets that follow (the broker takes a batch's base offset from its key)
    and the partition's watermark moved past them; then both start again and the store indexes the
    files it finds, as after any restart.
    """
    partition = workdir / "s3" / "tansu" / "clusters" / "tansu_cluster" / "topics" / TOPIC / "partitions" / "0000000000"
    records = sorted((partition / "records").glob("*.batch"))
    first = records[-1].read_bytes()
    end = int(records[-1].stem) + 1
    for offset in range(end, end + batches):
        (partition / "records" / f"{offset:0>20}.batch").write_bytes(first)
    watermark = json.loads((partition / "watermark.json").read_text())
    watermark["high"] = end + batches
    (partition / "watermark.json").write_text(json.dumps(watermark, separators=(",", ":")))


async def fetch_latency(workdir: Path, batches: int, samples: int = 100) -> dict[str, Any]:
    kafka = LocalKafka(workdir, durable=True)
    kafka.start()
    settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap, kafka_topic_partitions=1)
    try:
        await ensure_topics(settings, [TOPIC])
        empty = await _latencies(kafka.bootstrap, samples, settings.kafka_fetch_max_wait_ms)
        kafka.stop()
        _fill(workdir, batches)
        started = time.perf_counter()
        kafka.start()
        restart_s = time.perf_counter() - started
        pids = {part.process.name: part.process.recorded_pid() for part in kafka.parts}
        sampler = ProcessSampler({name: pid for name, pid in pids.items() if pid is not None}, every_s=1.0)
        stop = asyncio.Event()
        sampling = asyncio.create_task(sampler.run(stop))
        full = await _latencies(kafka.bootstrap, samples, settings.kafka_fetch_max_wait_ms)
        stop.set()
        await sampling
    finally:
        kafka.stop()
    resources = {
        name: {"rss_mb": figures["peak_mb"], "cpu_pct": figures["cpu_first_half_pct"]}
        for name, figures in sampler.growth().items()
    }
    return {
        "batches": batches,
        "restart_s": round(restart_s, 1),
        "fetch_wait_ms": settings.kafka_fetch_max_wait_ms,
        "empty": summary_ms(empty),
        "full": summary_ms(full),
        "p50_ratio": round(summary_ms(full)["p50_ms"] / summary_ms(empty)["p50_ms"], 2),
        "p99_ratio": round(summary_ms(full)["p99_ms"] / summary_ms(empty)["p99_ms"], 2),
        "resources": resources,
    }


def main() -> None:
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as workdir:
        print(asyncio.run(fetch_latency(Path(workdir), batches)))


if __name__ == "__main__":
    main()
