"""Compaction of the broker's store, on the real broker and store: readers see every record once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devkit.stack.compaction import JOURNAL, compact_store, merge, parse
from devkit.stack.components import partition_batches
from devkit.testing import LocalKafka, eventually
from shared.kafka import end_offsets, ensure_topics
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration
TOPIC = "compacted"
TP = TopicPartition(TOPIC, 0)
Row = tuple[int, bytes | None, bytes | None, list[tuple[str, bytes]]]


def _records(workdir: Path) -> Path:
    return workdir / "s3/tansu/clusters/tansu_cluster/topics" / TOPIC / "partitions/0000000000/records"


async def _produce(bootstrap: str, count: int, start: int = 0) -> list[Row]:
    """``count`` records, each its own batch (one produce request each), keyed and with headers."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    sent: list[Row] = []
    try:
        for n in range(start, start + count):
            key, value, headers = b"key-%d" % n, b"value-%d" % n * (1 + n % 5), [("n", b"%d" % n), ("empty", b"")]
            meta = await producer.send_and_wait(TOPIC, value, key=key, headers=headers, partition=0)
            sent.append((meta.offset, key, value, headers))
    finally:
        await producer.stop()
    return sent


async def _written(workdir: Path, count: int) -> list[Row]:
    """A topic of one partition on a new durable broker, ``count`` records produced, the broker stopped."""
    kafka = LocalKafka(workdir, durable=True, compact=False)
    kafka.start()
    try:
        await ensure_topics(ServiceSettings(kafka_bootstrap=kafka.bootstrap, kafka_topic_partitions=1), [TOPIC])
        return await _produce(kafka.bootstrap, count)
    finally:
        kafka.stop()


async def _read_from(bootstrap: str, offset: int, until: int) -> list[Row]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100)
    await consumer.start()
    got: list[Row] = []
    try:
        consumer.assign([TP])
        consumer.seek(TP, offset)

        async def complete() -> bool:
            for records in (await consumer.getmany(TP, timeout_ms=500)).values():
                got.extend((r.offset, r.key, r.value, list(r.headers)) for r in records)
            return consumer.highwater(TP) is not None and (not got or got[-1][0] >= until - 1) and len(got) > 0

        await eventually(complete, 30.0, f"records up to {until}")
        # nothing more arrives after the end
        for records in (await consumer.getmany(TP, timeout_ms=600)).values():
            got.extend((r.offset, r.key, r.value, list(r.headers)) for r in records)
    finally:
        await consumer.stop()
    return got


async def _commit(bootstrap: str, group: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TP])
        await consumer.commit({TP: offset})
    finally:
        await consumer.stop()


async def _resume(bootstrap: str, group: str) -> int:
    """Where the group's next reader starts: the offset of the first record it receives."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([TP])

        async def first() -> list[int]:  # a list, so that offset 0 counts as found
            batches = await consumer.getmany(TP, timeout_ms=500, max_records=1)
            return [r.offset for records in batches.values() for r in records]

        return int((await eventually(first, 20.0, f"the first record for {group}"))[0])
    finally:
        await consumer.stop()


async def _latest(bootstrap: str) -> int:
    """The broker's own ListOffsets answer (short after a batch of several records: decision 3)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return int((await consumer.end_offsets([TP]))[TP])
    finally:
        await consumer.stop()


async def test_compacted_partition_reads_whole_resumes_groups_and_appends(tmp_path: Path) -> None:
    kafka = LocalKafka(tmp_path, durable=True, compact=False)
    kafka.start()
    try:
        settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap, kafka_topic_partitions=1)
        await ensure_topics(settings, [TOPIC])
        sent = await _produce(kafka.bootstrap, 240)
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
        await producer.start()
        try:  # one batch of three records among the single ones
            batch = producer.create_batch()
            for n in (240, 241, 242):
                batch.append(key=b"key-%d" % n, value=b"batched-%d" % n, timestamp=None, headers=[("n", b"%d" % n)])
            await (await producer.send_batch(batch, TOPIC, partition=0))
        finally:
            await producer.stop()
        sent += [(n, b"key-%d" % n, b"batched-%d" % n, [("n", b"%d" % n)]) for n in (240, 241, 242)]
        sent += await _produce(kafka.bootstrap, 60, start=243)
        await _commit(kafka.bootstrap, "middle", 150)
        await _commit(kafka.bootstrap, "later", 280)
        assert [row[0] for row in sent] == list(range(303))
        before = await _read_from(kafka.bootstrap, 0, 303)
        assert before == sent
        end_before, latest_before = (await end_offsets(settings, [TP]))[TP], await _latest(kafka.bootstrap)
    finally:
        kafka.stop()
    objects = partition_batches(tmp_path)[f"{TOPIC}/0"]
    assert objects == 301  # 300 single-record batches and one of three
    report = compact_store(tmp_path / "s3" / "tansu", over=100, keep=20)
    # the newest 20 objects (offsets 283-302) stay; the others merge into runs that the committed
    # offsets start: 0-149, 150-279 (with the batch of three), 280-282
    after = sorted(int(path.stem) for path in _records(tmp_path).glob("*.batch"))
    assert after == [0, 150, 280, *range(283, 303)]
    assert report.merged == 3 and report.each == {f"{TOPIC}/0": (objects, len(after))}

    kafka.start()
    try:
        assert await _read_from(kafka.bootstrap, 0, 303) == sent
        assert await _read_from(kafka.bootstrap, 150, 303) == sent[150:]
        assert await _resume(kafka.bootstrap, "middle") == 150
        assert await _resume(kafka.bootstrap, "later") == 280
        assert await _resume(kafka.bootstrap, "new-group") == 0
        # a position inside a merged batch: the broker serves the batch that holds it, and the
        # client skips the records below the position
        await _commit(kafka.bootstrap, "inside", 75)
        assert await _resume(kafka.bootstrap, "inside") == 75
        assert await _read_from(kafka.bootstrap, 200, 303) == sent[200:]
        assert (await end_offsets(settings, [TP]))[TP] == end_before == 303
        assert await _latest(kafka.bootstrap) == latest_before
        assert [row[0] for row in await _produce(kafka.bootstrap, 2, start=303)] == [303, 304]
    finally:
        kafka.stop()


async def test_a_compaction_cut_short_is_repaired_whenever_the_store_starts(tmp_path: Path) -> None:
    """The state a kill between putting a merged batch in place and deleting the batches it replaced
    leaves (at start or while the broker runs): the store, whenever it starts (here without the
    compaction at start), first deletes the keys the merged batch already holds, so a reader never
    gets a record twice."""
    sent = await _written(tmp_path, 40)
    records = _records(tmp_path)
    run = [(n, parse((records / f"{n:0>20}.batch").read_bytes())) for n in range(30)]
    (records / f"{0:0>20}.batch").write_bytes(merge(run))
    (tmp_path / "s3" / JOURNAL).write_text(str(records))
    assert partition_batches(tmp_path)[f"{TOPIC}/0"] == 40

    kafka = LocalKafka(tmp_path, durable=True, compact=False)
    kafka.start()
    try:
        assert partition_batches(tmp_path)[f"{TOPIC}/0"] == 11
        assert not (tmp_path / "s3" / JOURNAL).exists()
        for start in (0, 12):
            assert await _read_from(kafka.bootstrap, start, 40) == sent[start:]
    finally:
        kafka.stop()
    assert "repaired an interrupted compaction: 29 leftover keys removed" in (tmp_path / "logs" / "s3.log").read_text()


def test_the_store_is_not_compacted_under_a_running_broker(tmp_path: Path) -> None:
    """The compaction at start leaves a store alone while a broker runs on it (the store started
    under it compacts as it serves, in its own way)."""
    records = tmp_path / "s3/tansu/clusters/c/topics/t/partitions/0000000000/records"
    records.mkdir(parents=True)
    kafka = LocalKafka(tmp_path, durable=True)
    store, broker = kafka.parts
    broker.process.pid_file.parent.mkdir(parents=True, exist_ok=True)
    # this test's own process stands in for a running broker: its pid file names it
    argv = [part.decode() for part in Path("/proc/self/cmdline").read_bytes().split(b"\0") if part]
    broker.process.pid_file.write_text(json.dumps({"pid": os.getpid(), "argv": argv}))
    assert broker.process.running()
    (tmp_path / "s3" / JOURNAL).write_text(str(records))
    assert store.prepare is not None
    store.prepare()
    assert (tmp_path / "s3" / JOURNAL).exists()  # nothing done
    broker.process.pid_file.unlink()
    store.prepare()
    assert not (tmp_path / "s3" / JOURNAL).exists()


def _kill_compaction_midway(workdir: Path, length: int) -> None:
    """Run ``python -m devkit.stack.compaction`` on the store and SIGKILL it once it has merged part
    of the partition (some hundreds of keys gone), while it still works on the rest."""
    compaction = subprocess.Popen([sys.executable, "-m", "devkit.stack.compaction", str(workdir / "s3" / "tansu")])
    try:
        deadline = time.monotonic() + 60
        while not ((workdir / "s3" / JOURNAL).exists() and partition_batches(workdir)[f"{TOPIC}/0"] < length - 600):
            assert compaction.poll() is None and time.monotonic() < deadline, "the compaction ended before the kill"
            time.sleep(0.002)
        compaction.send_signal(signal.SIGKILL)
    finally:
        compaction.wait()


async def test_a_compaction_killed_midway_loses_nothing_and_the_next_start_finishes_it(tmp_path: Path) -> None:
    """SIGKILL of a compaction while it merges a long partition: the next start of the store (the
    broker stopped) repairs and finishes it, and a reader from 0 gets every offset once, in order."""
    sent = await _written(tmp_path, 3)
    records, length = _records(tmp_path), 12_000
    newest = (records / f"{2:0>20}.batch").read_bytes()  # one record: copied under the offsets that follow
    for offset in range(3, length):
        (records / f"{offset:0>20}.batch").write_bytes(newest)
    watermark = records.parent / "watermark.json"
    watermark.write_text(json.dumps({**json.loads(watermark.read_text()), "high": length}))

    journal = tmp_path / "s3" / JOURNAL
    _kill_compaction_midway(tmp_path, length)
    assert journal.exists()  # it was cut short
    cut = partition_batches(tmp_path)[f"{TOPIC}/0"]

    kafka = LocalKafka(tmp_path, durable=True)  # as a start of the stack: compacting first
    kafka.start()
    try:
        assert not journal.exists()
        assert partition_batches(tmp_path)[f"{TOPIC}/0"] < cut
        got = await _read_from(kafka.bootstrap, 0, length)
        assert [row[0] for row in got] == list(range(length))
        assert got[:3] == sent and all(row[1:] == sent[2][1:] for row in got[3:])
        assert (await end_offsets(ServiceSettings(kafka_bootstrap=kafka.bootstrap), [TP]))[TP] == length
    finally:
        kafka.stop()


def test_a_store_whose_commits_cannot_be_read_starts_uncompacted(tmp_path: Path) -> None:
    cluster = tmp_path / "s3/tansu/clusters/c"
    (cluster / "topics/t/partitions/0000000000/records").mkdir(parents=True)
    offsets = cluster / "groups/consumers/g/offsets/t/partitions/0000000000.json"
    offsets.parent.mkdir(parents=True)
    offsets.write_text("{half a commit")
    store = LocalKafka(tmp_path, durable=True).parts[0]
    assert store.prepare is not None
    store.prepare()  # does not stop the start
    assert "compaction skipped" in (tmp_path / "logs" / "compaction.log").read_text()


async def _slow_reader(bootstrap: str, until: int, done: asyncio.Event) -> list[Row]:
    """A reader from offset 0 that takes a few batches a fetch and pauses between polls, so that it is
    still among the old batches while the store merges them."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100, max_partition_fetch_bytes=400
    )
    await consumer.start()
    got: list[Row] = []
    try:
        consumer.assign([TP])
        consumer.seek(TP, 0)
        deadline = time.monotonic() + 60
        while not (done.is_set() and got and got[-1][0] >= until - 1):
            assert time.monotonic() < deadline, f"read up to {got[-1][0] if got else None} of {until}"
            for records in (await consumer.getmany(TP, timeout_ms=200, max_records=3)).values():
                got.extend((r.offset, r.key, r.value, list(r.headers)) for r in records)
            await asyncio.sleep(0.01)
    finally:
        await consumer.stop()
    return got


async def test_the_store_compacts_under_a_running_broker_and_every_reader_gets_each_record_once(
    tmp_path: Path,
) -> None:
    """While the broker serves, the store merges the old batches of a growing partition (a pass every
    0.2 s here, from 60 objects, the newest 20 kept): readers that were among the old batches during
    the merges, a reader from the start and a reader from a committed offset afterwards each get
    every record once, in order; a group resumes where it committed; the partition stays short."""
    kafka = LocalKafka(tmp_path, durable=True, compact=False, compact_every_s=0.2, compact_over=60, compact_keep=20)
    kafka.start()
    try:
        settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap, kafka_topic_partitions=1)
        await ensure_topics(settings, [TOPIC])
        total, done = 400, asyncio.Event()
        readers = [asyncio.create_task(_slow_reader(kafka.bootstrap, total, done)) for _ in range(2)]
        sent: list[Row] = []
        for start in range(0, total, 100):
            sent += await _produce(kafka.bootstrap, 100, start=start)
            if start == 100:
                await _commit(kafka.bootstrap, "middle", 150)
        done.set()
        for reader in readers:
            assert await reader == sent

        async def short() -> bool:  # the batches of the last 0.2 s wait for the next pass
            return partition_batches(tmp_path)[f"{TOPIC}/0"] < 60 + 20

        await eventually(short, 10, "a partition kept short by the store's passes")
        assert await _read_from(kafka.bootstrap, 0, total) == sent
        assert await _read_from(kafka.bootstrap, 150, total) == sent[150:]
        assert await _resume(kafka.bootstrap, "middle") == 150
        assert (await end_offsets(settings, [TP]))[TP] == total
    finally:
        kafka.stop()
    log = (tmp_path / "logs" / "s3.log").read_text()
    assert "compaction skipped" not in log, log
