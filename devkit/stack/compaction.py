"""Compaction of the local broker's partitions: old single-record batches merged into larger ones.

The broker (Tansu on its S3 storage engine) keeps one object per produced record batch, under
``clusters/{cluster}/topics/{topic}/partitions/{partition:010}/records/{base_offset:020}.batch``,
and on every fetch lists every object of the partition, keeps the keys at or after the fetch's
position, reads them in order and gives each batch the base offset of its key. A fetch therefore
costs in proportion to the number of objects, and past about 10,000 a consumer at the end starves
(docs/decisions/0003). This module rewrites runs of consecutive old batches of a partition as one
record batch stored under the first batch's key, then deletes the others, so that a partition of
50,000 batches lists as a few hundred objects.

An object is a Kafka record batch (format v2, "magic" 2) as the producer sent it: base offset 0,
the broker's offset only in the key. A merged batch keeps every record's bytes but its length,
timestamp delta and offset delta, which are re-encoded against the merged batch's base; its CRC-32C
covers attributes to end, as the protocol says. Only plain batches are merged: no compression, no
transaction, not a control batch, create-time timestamps, no producer id. Others stay as they are.

What keeps every record readable (docs/decisions/0003 gives the argument):

- At start (:func:`compact_store`) it runs only while the broker is stopped
  (:func:`devkit.stack.components.kafka_components` runs it before the store starts, when the broker
  is not running). While the broker runs, the store itself compacts (:func:`stage_partition`): it
  puts each merged batch in place and unlists the batches it replaces in one step of its event loop,
  and for a while still serves a replaced key, to a fetch that listed the partition before, as the
  merged records from that key's offset on (:meth:`Staged.from_offset`), which the client reads
  without a duplicate (it skips records below its position).
- No merged batch holds a committed group offset but at its start: every group resumes at a key,
  as before. (The broker also serves the batch holding a position inside it, from which the
  client skips the records below its position; that is tested, not relied on for groups.)
- The newest ``keep`` objects of a partition stay as they are, and a merged batch holds at most
  ``MAX_RECORDS`` records and ``MAX_BYTES`` bytes.
- The broker answers ListOffsets from the objects' modification times, not their keys ("earliest"
  is the oldest object, "latest" the newest plus one): a merged batch keeps the oldest modification
  time of the batches it replaces, so both answers stay what they were.
- A merged batch is written to a temporary file, synced and renamed over the first key, and the
  directory synced before any other key is deleted; the partition is named in a journal first. A
  kill in between leaves the old batches beside a merged one that holds the same records; the next
  run deletes every key that an earlier batch covers (``repair``) before it merges anything.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import crc32c

# baseOffset batchLength partitionLeaderEpoch magic crc attributes lastOffsetDelta baseTimestamp
# maxTimestamp producerId producerEpoch baseSequence recordCount
HEADER = struct.Struct(">qiibIhiqqqhii")
CRC_FROM = 21  # the CRC covers the bytes from the attributes to the end of the batch
LENGTH_FROM = 12  # batchLength counts the bytes after itself
MAGIC = 2
PLAIN = 0  # attributes: no compression, create time, not transactional, not a control batch

# A partition is compacted from this many objects; its newest KEEP objects stay as they are.
COMPACT_FROM = 1_000
KEEP = 500
# A merged batch: at most this many records and bytes (services read up to 1 MiB per partition, and
# a consumer that commits inside a merged batch and restarts resumes after it: docs/decisions/0003)
MAX_RECORDS = 500
MAX_BYTES = 256 * 1024
JOURNAL = ".compaction-journal"  # beside the buckets, so the store never lists it


class BatchError(ValueError):
    """Bytes that are not a record batch this module reads."""


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A zigzag varint at ``at``: its value and where the next field begins."""
    shift = raw = 0
    while True:
        if at >= len(data):
            raise BatchError("a varint runs past the end of the batch")
        byte = data[at]
        at += 1
        raw |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (raw >> 1) ^ -(raw & 1), at
        shift += 7
        if shift > 63:
            raise BatchError("a varint longer than ten bytes")


def _zigzag(value: int) -> bytes:
    raw = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while raw > 0x7F:
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7
    out.append(raw)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a batch: its offset and timestamp deltas, and its other bytes verbatim."""

    attributes: int
    timestamp_delta: int
    offset_delta: int
    rest: bytes  # key length, key, value length, value, header count, headers


@dataclass(frozen=True, slots=True)
class Batch:
    base_offset: int
    partition_leader_epoch: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    count: int
    records: bytes  # the encoded records, as they follow the header

    @property
    def size(self) -> int:
        return HEADER.size + len(self.records)

    @property
    def plain(self) -> bool:
        """Whether it may be merged: uncompressed, create time, no transaction, no control, no producer id."""
        return self.attributes == PLAIN and self.producer_id == -1

    def each(self) -> Iterator[Record]:
        data, at = self.records, 0
        for _ in range(self.count):
            length, at = _varint(data, at)
            end = at + length
            if length < 0 or end > len(data):
                raise BatchError("a record runs past the end of the batch")
            attributes = data[at]
            timestamp_delta, position = _varint(data, at + 1)
            offset_delta, position = _varint(data, position)
            yield Record(attributes, timestamp_delta, offset_delta, data[position:end])
            at = end
        if at != len(data):
            raise BatchError("bytes after the last record of the batch")


def parse(data: bytes) -> Batch:
    """A v2 record batch, its length and CRC-32C checked."""
    if len(data) < HEADER.size:
        raise BatchError("shorter than a record batch header")
    fields = HEADER.unpack_from(data)
    base, length, epoch, magic, crc, attributes, last_delta, first_time, max_time, producer, producer_epoch = fields[
        :11
    ]
    if magic != MAGIC:
        raise BatchError(f"record batch format {magic}, not {MAGIC}")
    if length != len(data) - LENGTH_FROM:
        raise BatchError(f"the batch says {length} bytes follow its length, {len(data) - LENGTH_FROM} do")
    if crc32c.crc32c(data[CRC_FROM:]) != crc:
        raise BatchError("the batch's CRC-32C does not match its bytes")
    sequence, count = fields[11:]
    return Batch(
        base, epoch, attributes, last_delta, first_time, max_time, producer, producer_epoch, sequence, count,
        bytes(data[HEADER.size :]),
    )  # fmt: skip


def encode(batch: Batch) -> bytes:
    body = struct.pack(
        ">hiqqqhii",
        batch.attributes,
        batch.last_offset_delta,
        batch.base_timestamp,
        batch.max_timestamp,
        batch.producer_id,
        batch.producer_epoch,
        batch.base_sequence,
        batch.count,
    )
    body += batch.records
    head = struct.pack(
        ">qiibI", batch.base_offset, len(body) + 9, batch.partition_leader_epoch, MAGIC, crc32c.crc32c(body)
    )
    return head + body


def merge(batches: Sequence[tuple[int, Batch]]) -> bytes:
    """One plain batch holding the records of ``batches`` (each with the offset its key gives it, in
    order and contiguous), at the first one's offset: every record keeps its offset and timestamp."""
    if not batches or not all(batch.plain for _, batch in batches):
        raise BatchError("only plain batches are merged")
    base = batches[0][0]
    records = [
        (offset + record.offset_delta, batch.base_timestamp + record.timestamp_delta, record)
        for offset, batch in batches
        for record in batch.each()
    ]
    expected = base
    for offset, batch in batches:
        if offset != expected:
            raise BatchError(f"batch at {offset} does not follow the one ending before {expected}")
        expected = offset + batch.last_offset_delta + 1
    first_time = min(timestamp for _, timestamp, _ in records)
    out = bytearray()
    for offset, timestamp, record in records:
        body = bytes((record.attributes,)) + _zigzag(timestamp - first_time) + _zigzag(offset - base) + record.rest
        out += _zigzag(len(body)) + body
    last_offset, last_batch = batches[-1]
    return encode(
        Batch(
            base_offset=base,
            partition_leader_epoch=batches[0][1].partition_leader_epoch,
            attributes=PLAIN,
            last_offset_delta=last_offset + last_batch.last_offset_delta - base,
            base_timestamp=first_time,
            max_timestamp=max(timestamp for _, timestamp, _ in records),
            producer_id=-1,
            producer_epoch=-1,
            base_sequence=-1,
            count=len(records),
            records=bytes(out),
        )
    )


@dataclass
class Report:
    """What one compaction of the store did."""

    partitions: int = 0  # partitions compacted (over the threshold)
    objects_before: int = 0  # their objects before
    objects_after: int = 0  # and after
    merged: int = 0  # merged batches written
    repaired: int = 0  # keys deleted that an earlier (merged) batch already held
    seconds: float = 0.0
    each: dict[str, tuple[int, int]] = field(default_factory=dict)  # topic/partition: objects before, after

    @property
    def changed(self) -> bool:
        return bool(self.merged or self.repaired)

    def line(self) -> str:
        return (
            f"compacted {self.partitions} partitions: {self.objects_before} objects to {self.objects_after}, "
            f"{self.merged} merged batches, {self.repaired} leftover keys removed, in {self.seconds:.2f} s"
        )


def _keys(records: Path) -> list[int]:
    return sorted(int(name[:20]) for name in os.listdir(records) if name.endswith(".batch"))


def _path(records: Path, offset: int) -> str:
    return f"{records}/{offset:0>20}.batch"


def _read(path: str) -> tuple[bytes, int]:
    """A file's bytes and its modification time (ns)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        status = os.fstat(fd)
        chunks = []
        while chunk := os.read(fd, max(status.st_size, 1 << 16)):
            chunks.append(chunk)
        return b"".join(chunks), status.st_mtime_ns
    finally:
        os.close(fd)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(records: Path, data: bytes, modified_ns: int) -> str:
    """``data`` in a synced temporary file beside the partition's objects, last modified at
    ``modified_ns``; its path (the store deletes temporary files it finds at start)."""
    temporary = f"{records}/.tmp.{os.urandom(8).hex()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.utime(temporary, ns=(modified_ns, modified_ns))
    return temporary


def repair(records: Path) -> int:
    """Delete the keys whose records an earlier batch of the partition already holds (what a kill
    between writing a merged batch and deleting the batches it replaced leaves); return how many."""
    covered = -1
    removed = 0
    for offset in _keys(records):
        with open(_path(records, offset), "rb") as handle:
            header = HEADER.unpack(handle.read(HEADER.size))
        end = offset + header[6]  # lastOffsetDelta
        if offset <= covered and end <= covered:
            os.unlink(_path(records, offset))
            removed += 1
            continue
        covered = max(covered, end)
    return removed


def committed_offsets(cluster: Path) -> dict[tuple[str, int], list[int]]:
    """The offsets consumer groups committed, per (topic, partition) of a cluster, sorted (a group
    without a position, -1, starts at the earliest object, which is never merged away)."""
    commits: dict[tuple[str, int], set[int]] = {}
    for path in cluster.glob("groups/consumers/*/offsets/*/partitions/*.json"):
        try:
            offset = int(json.loads(path.read_bytes())["offset"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BatchError(f"{path} is not a committed offset the broker wrote: {exc}") from exc
        if offset >= 0:
            commits.setdefault((path.parent.parent.name, int(path.stem)), set()).add(offset)
    return {at: sorted(offsets) for at, offsets in commits.items()}


def _inside(commits: Sequence[int], first: int, last: int) -> bool:
    """Whether a committed offset lies in ``first + 1 .. last`` (strictly inside a batch there)."""
    at = bisect.bisect_right(commits, first)
    return at < len(commits) and commits[at] <= last


def _runs(
    records: Path, offsets: Sequence[int], commits: Sequence[int]
) -> Iterator[tuple[list[tuple[int, Batch]], int]]:
    """Runs of two or more consecutive plain batches, each within the bounds (a merged batch is no
    larger than the batches it replaces: one header instead of several) and none holding a committed
    offset but at its start, with the oldest modification time among them."""
    run: list[tuple[int, Batch]] = []
    count = size = expected = oldest = 0
    for offset in offsets:
        data, modified = _read(_path(records, offset))
        try:
            batch: Batch | None = parse(data)
        except BatchError:
            batch = None  # not a batch this module reads: left as it is
        eligible = (
            batch is not None
            and batch.plain
            and not _inside(commits, offset, offset + batch.last_offset_delta)
            and batch.count < MAX_RECORDS
            and batch.size < MAX_BYTES
        )
        if run and (
            batch is None
            or not eligible
            or offset != expected
            or _inside(commits, run[0][0], offset)
            or count + batch.count > MAX_RECORDS
            or size + batch.size > MAX_BYTES
        ):
            if len(run) > 1:
                yield run, oldest
            run = []
        if batch is None or not eligible:
            continue
        if not run:
            count = size = 0
            oldest = modified
        run.append((offset, batch))
        count, size, expected = count + batch.count, size + batch.size, offset + batch.last_offset_delta + 1
        oldest = min(oldest, modified)
    if len(run) > 1:
        yield run, oldest


def compact_partition(
    records: Path, commits: Sequence[int] = (), *, keep: int = KEEP, journal: Path | None = None
) -> int:
    """Merge the old batches of one partition (its ``records/`` directory), never across a committed
    offset (``commits``, sorted), leaving the newest ``keep`` objects; return the number of merged
    batches written.

    Every merged batch is written (synced, renamed over its first key) before the directory is
    synced once and the batches they replace are deleted; ``journal`` names the partition meanwhile."""
    staged = stage_partition(records, _keys(records), commits, journal, keep=keep)
    for merged in staged:
        put_in_place(merged)
    if staged:
        retire(records, [offset for merged in staged for offset in merged.replaced], journal)
    return len(staged)


def _journal(journal: Path, records: Path) -> None:
    journal.write_text(str(records))
    with open(journal, "rb+") as handle:
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class Staged:
    """A run of old batches merged into one and written to a temporary file, not yet in place."""

    records: Path
    run: list[tuple[int, Batch]]
    temporary: str
    size: int
    md5: str
    modified_ns: int

    @property
    def first(self) -> int:
        return self.run[0][0]

    @property
    def replaced(self) -> list[int]:
        return [offset for offset, _ in self.run[1:]]

    def from_offset(self, offset: int) -> bytes:
        """The records of the run from the batch at ``offset`` on, as one batch: what a reader that
        listed the partition before the merge was put in place is given for a key it replaced (its
        records, then those after it that the merged batch also holds; the client skips what it has)."""
        return merge([(at, batch) for at, batch in self.run if at >= offset])


def stage_partition(
    records: Path, offsets: Sequence[int], commits: Sequence[int], journal: Path | None, *, keep: int = KEEP
) -> list[Staged]:
    """The online half of :func:`compact_partition`, for a store that serves the broker meanwhile:
    merge the runs of the partition's old batches (``offsets``: its keys, sorted, as the store lists
    them; the newest ``keep`` stay) into synced temporary files, after naming the partition in
    ``journal``. The store puts each in place (a rename, and the replaced keys unlisted, in one step
    of its event loop) and then calls :func:`retire`."""
    staged: list[Staged] = []
    for run, oldest in _runs(records, offsets[: max(len(offsets) - keep, 0)], commits):
        if not staged and journal is not None:
            _journal(journal, records)
        data = merge(run)
        temporary = _stage(records, data, oldest)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        staged.append(Staged(records, run, temporary, len(data), md5, oldest))
    return staged


def put_in_place(staged: Staged) -> None:
    os.replace(staged.temporary, _path(staged.records, staged.first))


def retire(records: Path, replaced: Sequence[int], journal: Path | None) -> None:
    """Once merged batches are in place: sync the directory, delete the batches they replaced, and
    clear the journal (a kill before leaves keys that :func:`repair` deletes at the next start)."""
    _sync_directory(records)
    for offset in replaced:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_path(records, offset))
    if journal is not None:
        journal.unlink(missing_ok=True)


def repair_journaled(journal: Path) -> int:
    """Repair the partition an interrupted compaction named in ``journal``, if any; clear it."""
    if not journal.exists():
        return 0
    interrupted = Path(journal.read_text().strip())
    repaired = repair(interrupted) if interrupted.is_dir() else 0
    journal.unlink()
    return repaired


def compact_store(bucket: Path, *, over: int = COMPACT_FROM, keep: int = KEEP) -> Report:
    """Repair what an interrupted compaction left, then compact every partition of the broker's bucket
    (``<data>/s3/tansu``) holding more than ``over`` objects. Only while the broker is stopped."""
    began = time.perf_counter()
    report = Report()
    journal = bucket.parent / JOURNAL
    report.repaired += repair_journaled(journal)
    for cluster in sorted((bucket / "clusters").glob("*")):
        commits = committed_offsets(cluster)
        for records in sorted(cluster.glob("topics/*/partitions/*/records")):
            with os.scandir(records) as entries:
                before = sum(1 for entry in entries if entry.name.endswith(".batch"))
            if before <= over:
                continue
            topic, partition = records.parent.parent.parent.name, int(records.parent.name)
            merged = compact_partition(records, commits.get((topic, partition), []), keep=keep, journal=journal)
            if journal.exists():
                journal.unlink()
            after = len(_keys(records))
            report.partitions += 1
            report.objects_before += before
            report.objects_after += after
            report.merged += merged
            report.each[f"{topic}/{partition}"] = (before, after)
    report.seconds = time.perf_counter() - began
    return report


def main() -> None:
    """``python -m devkit.stack.compaction <data>/s3/tansu``: compact a stopped broker's store."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m devkit.stack.compaction <data>/s3/tansu")
    print(compact_store(Path(sys.argv[1])).line())


if __name__ == "__main__":
    main()
