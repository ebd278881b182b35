"""Merging the broker's record batches, checked by aiokafka's own record batch reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiokafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords

from devkit.stack.compaction import (
    MAX_RECORDS,
    BatchError,
    committed_offsets,
    compact_partition,
    merge,
    parse,
    repair,
)

NONE, GZIP = 0, 1
T0 = 1_796_560_000_000  # ms since the epoch


def built(
    records: list[tuple[int, bytes | None, bytes | None, list[tuple[str, bytes]]]],
    *,
    compression: int = NONE,
    transactional: bool = False,
    producer_id: int = -1,
) -> bytes:
    """A batch as a producer sends it (base offset 0), by aiokafka's own encoder: (timestamp, key,
    value, headers) per record."""
    builder = DefaultRecordBatchBuilder(
        2, compression, int(transactional), producer_id, -1 if producer_id < 0 else 0, -1, 1 << 20
    )
    for delta, (timestamp, key, value, headers) in enumerate(records):
        builder.append(delta, timestamp, key, value, headers)
    return bytes(builder.build())


def read(data: bytes, base_offset: int) -> list[tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """What a consumer reads of a batch the broker serves at ``base_offset``: the broker writes the
    base offset from the key over the first 8 bytes; aiokafka checks the CRC."""
    served = base_offset.to_bytes(8, "big", signed=True) + data[8:]
    records = MemoryRecords(served)
    out = []
    while (batch := records.next_batch()) is not None:
        assert isinstance(batch, DefaultRecordBatch)
        assert batch.validate_crc()
        out += [(r.offset, r.timestamp, r.key, r.value, list(r.headers)) for r in batch]
    return out


def test_merged_batches_keep_every_record_offset_timestamp_key_value_and_header() -> None:
    singles = [
        (10, built([(T0 + 5, b"k10", b"v10", [("trace", b"a")])])),
        (11, built([(T0 + 3, None, b"v11", [])])),  # earlier than the first: a negative delta is not needed
        (12, built([(T0 + 900, b"k12", None, [("h1", b"x"), ("h2", b"")])])),
        (13, built([(T0 + 7, b"k13", b"v" * 300, []), (T0 + 8, b"k14", b"v14", [("h", b"y")])])),
    ]
    expected = [record for offset, data in singles for record in read(data, offset)]
    assert [r[0] for r in expected] == [10, 11, 12, 13, 14]
    merged = merge([(offset, parse(data)) for offset, data in singles])
    assert read(merged, 10) == expected
    whole = parse(merged)
    assert (whole.count, whole.last_offset_delta, whole.base_timestamp, whole.max_timestamp) == (5, 4, T0 + 3, T0 + 900)
    batch = MemoryRecords(merged).next_batch()
    assert batch is not None and batch.max_timestamp == T0 + 900 and batch.compression_type == 0
    assert len(merged) < sum(len(data) for _, data in singles)


def test_a_merged_batch_merges_again() -> None:
    first = merge([(0, parse(built([(T0, b"a", b"0", [])]))), (1, parse(built([(T0 + 1, b"b", b"1", [])])))])
    again = merge([(0, parse(first)), (2, parse(built([(T0 + 2, b"c", b"2", [("x", b"y")])])))])
    assert read(again, 0) == [
        (0, T0, b"a", b"0", []),
        (1, T0 + 1, b"b", b"1", []),
        (2, T0 + 2, b"c", b"2", [("x", b"y")]),
    ]


def test_compressed_transactional_and_producer_batches_are_not_merged() -> None:
    record = [(T0, b"k", b"v" * 50, [])]
    assert parse(built(record)).plain
    assert not parse(built(record, compression=GZIP)).plain
    assert not parse(built(record, transactional=True, producer_id=7)).plain
    assert not parse(built(record, producer_id=7)).plain
    with pytest.raises(BatchError):
        merge([(0, parse(built(record))), (1, parse(built(record, compression=GZIP)))])


def test_a_batch_whose_bytes_do_not_match_its_crc_is_refused() -> None:
    data = bytearray(built([(T0, b"k", b"value", [])]))
    data[-1] ^= 1
    with pytest.raises(BatchError, match="CRC"):
        parse(bytes(data))
    with pytest.raises(BatchError):
        merge([(0, parse(built([(T0, b"k", b"v", [])]))), (5, parse(built([(T0, b"k", b"v", [])])))])  # a gap


def _partition(tmp_path: Path, batches: dict[int, bytes]) -> Path:
    records = tmp_path / "records"
    records.mkdir()
    for offset, data in batches.items():
        (records / f"{offset:0>20}.batch").write_bytes(data)
    return records


def _read_partition(records: Path) -> list[tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    return [r for path in sorted(records.glob("*.batch")) for r in read(path.read_bytes(), int(path.stem))]


def test_a_partition_is_merged_between_committed_offsets_around_batches_left_alone(tmp_path: Path) -> None:
    batches = {n: built([(T0 + n, b"k%d" % n, b"v%d" % n, [("n", b"%d" % n)])]) for n in range(1200)}
    batches[100] = built([(T0 + 100, b"k100", b"v100", [])], compression=GZIP)  # left alone, splits a run
    records = _partition(tmp_path, batches)
    before = _read_partition(records)
    assert compact_partition(records, [1000], keep=50) > 0
    assert _read_partition(records) == before
    keys = sorted(int(path.stem) for path in records.glob("*.batch"))
    # 0-99 merged; the gzip batch stays at its key; 101-999 in runs of at most MAX_RECORDS (500),
    # the last ending before the committed offset 1000, which starts the next; the newest 50 stay
    assert MAX_RECORDS == 500
    assert keys == [0, 100, 101, 601, 1000, *range(1150, 1200)]
    # a second run changes nothing
    assert compact_partition(records, [1000], keep=50) == 0


def test_a_batch_holding_a_committed_offset_inside_it_is_left_alone(tmp_path: Path) -> None:
    batches = {n: built([(T0 + n, None, b"%d" % n, [])]) for n in range(10)}
    batches[10] = built([(T0 + 10, None, b"10", []), (T0 + 11, None, b"11", []), (T0 + 12, None, b"12", [])])
    batches.update({n: built([(T0 + n, None, b"%d" % n, [])]) for n in range(13, 20)})
    records = _partition(tmp_path, batches)
    before = _read_partition(records)
    compact_partition(records, [11], keep=0)
    assert sorted(int(p.stem) for p in records.glob("*.batch")) == [0, 10, 13]
    assert _read_partition(records) == before


def test_the_newest_batches_stay(tmp_path: Path) -> None:
    records = _partition(tmp_path, {n: built([(T0 + n, None, b"%d" % n, [])]) for n in range(30)})
    compact_partition(records, keep=10)
    assert sorted(int(p.stem) for p in records.glob("*.batch")) == [0, *range(20, 30)]


def test_repair_deletes_what_a_merged_batch_already_holds(tmp_path: Path) -> None:
    """What a kill between writing a merged batch and deleting the ones it replaced leaves."""
    singles = {n: built([(T0 + n, None, b"%d" % n, [])]) for n in range(6)}
    records = _partition(tmp_path, singles)
    (records / f"{0:0>20}.batch").write_bytes(merge([(n, parse(singles[n])) for n in range(4)]))
    assert repair(records) == 3
    assert sorted(int(p.stem) for p in records.glob("*.batch")) == [0, 4, 5]
    assert [r[0] for r in _read_partition(records)] == list(range(6))
    assert repair(records) == 0


def test_committed_offsets_of_every_group_are_read_per_partition(tmp_path: Path) -> None:
    for group, offset in (("a", 40), ("b", 25), ("c", -1)):
        for topic, partition in (("t", 0), ("t", 2), ("u", 0)):
            if group == "c" and topic != "u":
                continue
            path = tmp_path / "groups/consumers" / group / "offsets" / topic / "partitions" / f"{partition:0>10}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"offset": offset, "leader_epoch": None, "timestamp": None, "metadata": ""}))
    assert committed_offsets(tmp_path) == {("t", 0): [25, 40], ("t", 2): [25, 40], ("u", 0): [25, 40]}
