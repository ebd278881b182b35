"""Checks of the local S3 store's indexed listing against nanio's own, run by the broker's interpreter.

``test_s3_store.py`` runs this file with ``.tools/kafka/bin/python`` (nanio is installed only there)
and fails on any non-zero exit. Each check compares the indexed answer with the one nanio gives
when it walks the disk, after random writes and deletes, with pages of every size.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))

from nanio.storage.filesystem import FilesystemStorage
from nanio.xml import list_objects_v2_xml
from s3_server import IndexedStorage, ListingXml

BUCKET = "tansu"
PREFIXES = ["", "clusters/", "clusters/c/topics/t/partitions/0000000001/records/", "clusters/c/topics/", "other", "zz/"]


def batch_key(partition: int, offset: int) -> str:
    return f"clusters/c/topics/t/partitions/{partition:0>10}/records/{offset:0>20}.batch"


async def body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def listing(storage: object, prefix: str, max_keys: int) -> list[tuple[str, str, int]]:
    seen: list[tuple[str, str, int]] = []
    token = None
    for _ in range(10_000):
        page = storage.list_objects(BUCKET, prefix=prefix, max_keys=max_keys, continuation_token=token)  # type: ignore[attr-defined]
        assert len(page.contents) <= max_keys, (prefix, max_keys, len(page.contents))
        seen.extend((c.key, c.etag, c.size) for c in page.contents)
        if not page.is_truncated:
            return seen
        token = page.next_continuation_token
    raise AssertionError("the listing never ended")


async def check_listing(root: Path) -> None:
    rng = random.Random(7)
    plain = FilesystemStorage(root)
    plain.create_bucket(BUCKET)
    indexed = IndexedStorage(FilesystemStorage(root))
    keys: set[str] = set()
    for step in range(1, 601):
        roll = rng.random()
        if roll < 0.7:
            key = batch_key(rng.randrange(3), rng.randrange(400))
        elif roll < 0.8:
            key = f"clusters/c/topics/t{rng.randrange(3)}.json"
        elif roll < 0.9:
            key = rng.choice(["other/a-b", "other/a/x", "other.txt", "zz/ü/1", "zz/u/2"])
        else:
            key = rng.choice(sorted(keys)) if keys else batch_key(0, 0)
            indexed.delete_object(BUCKET, key)
            keys.discard(key)
            continue
        await indexed.put_object(BUCKET, key, body(rng.randbytes(rng.randrange(1, 64))))
        keys.add(key)
        if step % 50 == 0:
            for prefix in PREFIXES:
                expected = sorted(item for item in listing(plain, prefix, 1000))
                for max_keys in (1, 3, 7, 1000):
                    got = listing(indexed, prefix, max_keys)
                    assert got == sorted(got, key=lambda item: item[0].encode()), "not in byte order"
                    assert sorted(got) == expected, (step, prefix, max_keys)
                assert {k for k, _, _ in expected} == {k for k in keys if k.startswith(prefix)}
    restarted = IndexedStorage(FilesystemStorage(root))
    for prefix in PREFIXES:
        assert listing(restarted, prefix, 5) == listing(indexed, prefix, 5), prefix
    token_page = indexed.list_objects(BUCKET, prefix="", start_after="clusters/c/topics/t1.json", max_keys=1000)
    assert all(c.key > "clusters/c/topics/t1.json" for c in token_page.contents)
    assert indexed.list_objects(BUCKET, prefix="", max_keys=0).contents == []


def check_xml() -> None:
    rng = random.Random(11)
    render = ListingXml(list_objects_v2_xml)
    when = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    entries = [(batch_key(rng.randrange(3), n), when, f'"{n:032x}"', rng.randrange(1, 900)) for n in range(300)]
    entries.append(('odd <&> "key"', when, '"e"', 1))
    for _ in range(200):
        page = sorted(rng.sample(entries, rng.randrange(0, 40)))
        options = {
            "bucket": BUCKET,
            "prefix": rng.choice(["", "clusters/"]),
            "max_keys": rng.choice([1, 1000]),
            "is_truncated": rng.random() < 0.5,
            "continuation_token": rng.choice([None, "abc"]),
            "next_continuation_token": rng.choice([None, "def"]),
            "start_after": rng.choice([None, "a"]),
        }
        assert render(contents=page, common_prefixes=[], **options) == list_objects_v2_xml(
            contents=page, common_prefixes=[], **options
        )
        prefixes = ["clusters/x/"]
        assert render(contents=page, common_prefixes=prefixes, **options) == list_objects_v2_xml(
            contents=page, common_prefixes=prefixes, **options
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(check_listing(Path(tmp)))
    check_xml()
    print("s3 store checks passed")


if __name__ == "__main__":
    main()
