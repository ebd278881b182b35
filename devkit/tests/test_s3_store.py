"""The broker's local S3 store, driven by an independent S3 client (botocore) as a process of its own.

What the broker relies on: objects written whole and kept across a SIGKILL, conditional writes
with exactly one winner, complete listings in key order across pages, and signed requests only.
The expected listings come from the keys each test wrote, not from the store.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from devkit.stack.compaction import JOURNAL, PLAIN, Batch, _varint, _zigzag, encode, merge, parse
from devkit.stack.components import StackError, kafka_components
from devkit.stack.processes import free_port
from devkit.testing import LocalProcesses

botocore = pytest.importorskip("botocore.session")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

BUCKET = "tansu"


class LocalStore(LocalProcesses):
    def __init__(self, workdir: Path, **compaction: Any) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.parts = kafka_components(workdir, workdir / "run", free_port(), self.port, **compaction)[:1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.parts[0].process.kill()

    def client(self, secret: str | None = None) -> Any:
        secrets = self.workdir / "secrets"
        return botocore.get_session().create_client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=(secrets / "s3-access").read_text().strip(),
            aws_secret_access_key=secret or (secrets / "s3-secret").read_text().strip(),
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    local = LocalStore(tmp_path)
    try:
        local.start()
    except StackError as exc:
        local.stop()
        pytest.skip(f"the local S3 store could not start here: {exc}")
    yield local
    local.stop()


def _status(error: ClientError) -> int:
    return int(error.response["ResponseMetadata"]["HTTPStatusCode"])


def test_an_object_is_read_back_whole_with_its_md5_as_etag(store: LocalStore) -> None:
    s3 = store.client()
    body = random.randbytes(70_000)
    put = s3.put_object(Bucket=BUCKET, Key="clusters/c/meta.json", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=BUCKET, Key="clusters/c/meta.json")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert s3.head_object(Bucket=BUCKET, Key="clusters/c/meta.json")["ContentLength"] == len(body)
    part = s3.get_object(Bucket=BUCKET, Key="clusters/c/meta.json", Range="bytes=10-19")
    assert part["Body"].read() == body[10:20]
    s3.delete_object(Bucket=BUCKET, Key="clusters/c/meta.json")
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=BUCKET, Key="clusters/c/meta.json")
    assert _status(missing.value) == 404

    group = [f"clusters/c/groups/g{n}.json" for n in range(5)]
    for key in group:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key} for key in group[:3]]})
    assert sorted(item["Key"] for item in answer["Deleted"]) == group[:3]
    assert _listed(s3, 1000, Prefix="clusters/c/groups/")[0] == group[3:]


def _winners(s3: Any, key: str, body: bytes, **condition: str) -> int:
    """How many of 16 racing writers of ``key`` under ``condition`` succeed (the others get 412)."""

    def attempt(n: int) -> bool:
        try:
            s3.put_object(Bucket=BUCKET, Key=key, Body=body + b" %d" % n, **condition)
        except ClientError as error:
            assert _status(error) == 412
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(attempt, range(16)))


def test_conditional_writes_have_exactly_one_winner(store: LocalStore) -> None:
    s3 = store.client()
    key = "clusters/c/topics/t/partitions/0000000000/watermark.json"
    assert _winners(s3, key, b"first", IfNoneMatch="*") == 1
    seen = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert _winners(s3, key, b"next", IfMatch=seen) == 1
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().startswith(b"next ")
    with pytest.raises(ClientError) as stale:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"late", IfMatch=seen)
    assert _status(stale.value) == 412


def _listed(s3: Any, page: int, **options: Any) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    prefixes: list[str] = []
    token: dict[str, str] = {}
    while True:
        answer = s3.list_objects_v2(Bucket=BUCKET, MaxKeys=page, **options, **token)
        keys += [item["Key"] for item in answer.get("Contents", [])]
        prefixes += [item["Prefix"] for item in answer.get("CommonPrefixes", [])]
        assert answer["KeyCount"] <= page
        if not answer["IsTruncated"]:
            return keys, prefixes
        token = {"ContinuationToken": answer["NextContinuationToken"]}


def test_listings_give_every_key_in_order_across_pages(store: LocalStore) -> None:
    s3 = store.client()
    rng = random.Random(7)
    records = "clusters/c/topics/t/partitions/{:0>10}/records/{:0>20}.batch"
    written = {records.format(rng.randrange(3), rng.randrange(10_000)) for _ in range(300)}
    written |= {"clusters/c/meta.json", "clusters/c/topics/t/partitions/0000000001/watermark.json", "other/x"}
    deleted = set(rng.sample(sorted(written), 30))
    for key in sorted(written):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    for key in deleted:
        s3.delete_object(Bucket=BUCKET, Key=key)
    kept = sorted(written - deleted)

    one = "clusters/c/topics/t/partitions/0000000001/records/"
    for page in (1, 7, 1000):
        assert _listed(s3, page) == (kept, [])
        assert _listed(s3, page, Prefix=one) == ([k for k in kept if k.startswith(one)], [])
    whole = s3.list_objects_v2(Bucket=BUCKET)  # no max-keys, as the broker asks: a page of up to 1,000
    assert [item["Key"] for item in whole["Contents"]] == kept
    assert not whole["IsTruncated"]
    middle = kept[len(kept) // 2]
    assert _listed(s3, 50, StartAfter=middle)[0] == [k for k in kept if k > middle]
    partitions = "clusters/c/topics/t/partitions/"
    expected = sorted({partitions + k[len(partitions) :].split("/")[0] + "/" for k in kept if k.startswith(partitions)})
    for page in (1, 2, 1000):
        assert _listed(s3, page, Prefix=partitions, Delimiter="/") == ([], expected)
    assert _listed(s3, 1000, Delimiter="/") == ([], ["clusters/", "other/"])


def test_requests_must_be_signed_with_the_store_secret(store: LocalStore) -> None:
    s3 = store.client()
    s3.put_object(Bucket=BUCKET, Key="private", Body=b"secret")
    assert httpx.get(f"{store.url}/{BUCKET}/private").status_code == 403
    assert httpx.put(f"{store.url}/{BUCKET}/private", content=b"mine").status_code == 403
    with pytest.raises(ClientError) as wrong:
        store.client(secret="not-the-secret").get_object(Bucket=BUCKET, Key="private")
    assert _status(wrong.value) == 403
    assert s3.get_object(Bucket=BUCKET, Key="private")["Body"].read() == b"secret"


def test_a_killed_store_keeps_acknowledged_objects_and_drops_unfinished_ones(store: LocalStore) -> None:
    s3 = store.client()
    keys = [f"clusters/c/topics/t/partitions/0000000000/records/{n:0>20}.batch" for n in range(50)]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode() * 3)
    unfinished = store.workdir / "s3" / BUCKET / "clusters/c/topics/t/partitions/0000000000/records/.tmp.0123"
    unfinished.write_bytes(b"half")
    store.kill()
    store.start()
    s3 = store.client()
    assert _listed(s3, 1000)[0] == keys
    assert all(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == key.encode() * 3 for key in keys)
    assert not unfinished.exists()


def _single_record_batch(value: bytes) -> bytes:
    """A record batch as a producer sends one record (base offset 0; the key gives the offset)."""
    body = bytes([0]) + _zigzag(0) + _zigzag(0) + _zigzag(-1) + _zigzag(len(value)) + value + _zigzag(0)
    at = 1_765_000_000_000
    return encode(Batch(0, 0, PLAIN, 0, at, at, -1, -1, -1, 1, _zigzag(len(body)) + body))


def _values(batch: Batch) -> list[tuple[int, bytes]]:
    """(offset delta, value) of each record of a batch of records without key or headers."""
    out = []
    for record in batch.each():
        length, at = _varint(record.rest, 1)  # after the key's length (-1: no key)
        out.append((record.offset_delta, record.rest[at : at + length]))
    return out


def test_the_store_merges_a_long_partition_while_serving_and_still_serves_what_it_replaced(tmp_path: Path) -> None:
    """With the broker's batches written one by one, a pass of the store (every 0.2 s here, over 39
    objects, the newest 10 kept) merges the old ones: the listing shrinks to the merged batch and the
    newest ten, the merged batch holds every replaced record at its offset, and a key it replaced is
    still served for a while, as the records from that key's offset on, to a reader that listed the
    partition before."""
    store = LocalStore(tmp_path, compact_every_s=0.2, compact_over=39, compact_keep=10)
    store.start()
    try:
        s3 = store.client()
        prefix = "clusters/c/topics/t/partitions/0000000000/records/"
        values = {n: b"value-%d" % n for n in range(40)}
        for n, value in values.items():
            s3.put_object(Bucket=BUCKET, Key=f"{prefix}{n:0>20}.batch", Body=_single_record_batch(value))

        def listed() -> list[str]:
            return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]

        deadline = time.monotonic() + 20
        while len(listed()) > 11:
            assert time.monotonic() < deadline, f"not compacted: {len(listed())} objects"
            time.sleep(0.1)
        assert listed() == [f"{prefix}{n:0>20}.batch" for n in (0, *range(30, 40))]
        merged = parse(s3.get_object(Bucket=BUCKET, Key=f"{prefix}{0:0>20}.batch")["Body"].read())
        assert _values(merged) == [(n, values[n]) for n in range(30)]
        replaced = parse(s3.get_object(Bucket=BUCKET, Key=f"{prefix}{12:0>20}.batch")["Body"].read())
        assert _values(replaced) == [(n - 12, values[n]) for n in range(12, 30)]
        files = sorted(p.name for p in (tmp_path / "s3" / BUCKET / prefix).iterdir())
        assert files == [f"{n:0>20}.batch" for n in (0, *range(30, 40))]  # the replaced files are gone
    finally:
        store.stop()


def test_a_pass_first_deletes_what_an_interrupted_one_left_unlisted(tmp_path: Path) -> None:
    """A pass that failed between putting merged batches in place and deleting the batches they
    replaced leaves those files on disk, unlisted, with the journal naming their partition: the
    next pass deletes them before it merges anything (a start of the store would list them again)."""
    store = LocalStore(tmp_path, compact_every_s=0.2, compact_over=39, compact_keep=10)
    store.start()
    try:
        s3 = store.client()
        left = "clusters/c/topics/left/partitions/0000000000/records/"
        batches = [(n, parse(_single_record_batch(b"left-%d" % n))) for n in range(5)]
        s3.put_object(Bucket=BUCKET, Key=f"{left}{0:0>20}.batch", Body=merge(batches))
        directory = tmp_path / "s3" / BUCKET / left
        for n in range(1, 5):  # the replaced batches, unlisted but still on disk
            (directory / f"{n:0>20}.batch").write_bytes(_single_record_batch(b"left-%d" % n))
        (tmp_path / "s3" / JOURNAL).write_text(str(directory))
        prefix = "clusters/c/topics/t/partitions/0000000000/records/"
        for n in range(40):  # a partition long enough for a pass
            s3.put_object(Bucket=BUCKET, Key=f"{prefix}{n:0>20}.batch", Body=_single_record_batch(b"%d" % n))
        deadline = time.monotonic() + 20
        while len(list((tmp_path / "s3" / BUCKET / prefix).iterdir())) > 11:
            assert time.monotonic() < deadline, "no pass ran"
            time.sleep(0.1)
        assert sorted(p.name for p in directory.iterdir()) == [f"{0:0>20}.batch"]
        assert not (tmp_path / "s3" / JOURNAL).exists()
    finally:
        store.stop()
