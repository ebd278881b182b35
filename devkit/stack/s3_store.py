"""The broker's local S3 store: the part of the S3 API the broker uses, kept in files.

The broker (Tansu on its S3 storage engine) keeps one object per produced record batch, one per
partition for its high watermark, and a few for its metadata and consumer groups. What it needs
from S3, and what this store answers as the S3 API documents it:

- ``PUT`` of an object, with the conditional writes the watermark relies on: ``If-None-Match: *``
  creates only a key that does not exist, ``If-Match: <etag>`` replaces only the version read;
  otherwise ``412 Precondition Failed``. Checked and written under a lock per key, so of racing
  conditional writes exactly one wins. ``PUT`` with ``x-amz-copy-source`` copies.
- ``GET`` / ``HEAD`` of an object (with ``Range``, ``If-Match``, ``If-None-Match``), ``DELETE``,
  and ``POST ?delete`` (several keys at once).
- ``ListObjectsV2`` (``GET /bucket?list-type=2``) with prefix, delimiter, start-after and
  continuation tokens. The broker lists every batch of a partition on each fetch, so listings are
  answered from a sorted index in memory, each object's ``<Contents>`` element rendered once, when
  the object is written: a page costs a bisection and a join, not a walk of the disk. Pages hold
  1,000 keys, as on S3 (``--page`` changes that when the client names no ``max-keys``; measured,
  larger and smaller pages both made the broker's fetches slower: docs/decisions/0003).
- Requests are authenticated with AWS Signature Version 4 (``Authorization`` header), the body
  checked against ``x-amz-content-sha256`` when that names a digest.

An object is its file under ``<data-dir>/<bucket>/<key>``: written to a temporary file beside it
and renamed over the old one, so a kill leaves the old object or the new one, never part of one;
temporary files found at start are deleted. An acknowledged write survives the kill of any process.
With ``--sync`` the file and its directory are also synced to disk before the answer, so that it
survives a power loss too; that is off by default, as it is in Kafka (which leaves flushing to the
operating system and relies on replicas). The index is rebuilt from the files at start (each object's MD5 is its ETag, as S3 gives
for a single-part upload). Buckets are the directories directly under the data directory.

With ``--compact-every`` it also keeps the broker's partitions short while the broker runs: every
so many seconds, a partition of more than ``--compact-over`` objects has its old batches merged
(:mod:`devkit.stack.compaction`; the newest ``--compact-keep`` stay). The merging and the writing
happen in a worker thread; each merged batch is then renamed over its first key and the keys it
replaces leave the index in one step of the event loop, so a listing sees either all of the old
batches or the merged one. A fetch that listed before and asks for a replaced key afterwards gets,
for ``RETIRED_FOR_S``, the merged records from that key's offset on. The files it replaced are
deleted once the rename is synced; a journal beside the buckets names the partition meanwhile, and
a store that starts after a kill in between deletes what a merged batch already holds first.

It runs as a script with the interpreter of the broker's own virtualenv (``.tools/kafka``), which
has uvicorn with uvloop and httptools and crc32c; it imports nothing else outside the standard
library but :mod:`devkit.stack.compaction` (the stack puts the checkout on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import hashlib
import hmac
import os
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote
from xml.sax.saxutils import escape, unescape

import uvicorn

from devkit.stack.compaction import (
    COMPACT_FROM,
    JOURNAL,
    KEEP,
    Staged,
    committed_offsets,
    put_in_place,
    repair_journaled,
    retire,
    stage_partition,
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
DELETE_KEY = re.compile(r"<Key>([^<]*)</Key>")
QUIET = re.compile(r"<Quiet>\s*true\s*</Quiet>")
PAST = "\U0010ffff"  # after a common prefix, a resume point past every key below it
MAX_KEYS = 1000  # the most keys a page holds when the client asks for a number, as on S3
LOCKS = 1024  # writes and reads of a key take turns on one of these (chosen by the key's hash)
# the broker's record batches: clusters/{cluster}/topics/{topic}/partitions/{partition}/records/{offset}.batch
BATCH_KEY = re.compile(r"clusters/([^/]+)/topics/([^/]+)/partitions/(\d+)/records/(\d{20})\.batch")
RETIRED_FOR_S = 60.0  # how long a batch a merge replaced is still served to a reader that listed it before


class S3Error(Exception):
    """An S3 error answer: the HTTP status, the S3 error code and a message."""

    def __init__(self, status: int, code: str, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.resource = status, code, message, resource

    def xml(self) -> bytes:
        return (
            XML_HEAD
            + (
                f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
                f"<Resource>{escape(self.resource)}</Resource></Error>"
            ).encode()
        )


def no_such_key(key: str) -> S3Error:
    return S3Error(404, "NoSuchKey", "The specified key does not exist.", key)


def precondition_failed(key: str) -> S3Error:
    return S3Error(412, "PreconditionFailed", "At least one of the preconditions you specified did not hold.", key)


def xml_etag(etag: str) -> str:
    return escape(etag, {'"': "&quot;"})


def iso_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index knows of one object: enough to answer a HEAD or a listing without the disk."""

    key: str
    size: int
    etag: str  # quoted, as S3 sends it
    modified: float  # seconds since the epoch
    element: bytes  # the object's <Contents> element in a listing

    @classmethod
    def of(cls, key: str, size: int, md5: str, modified: float) -> Entry:
        etag = f'"{md5}"'
        element = (
            f"<Contents><Key>{escape(key)}</Key><LastModified>{iso_time(modified)}</LastModified>"
            f"<ETag>{xml_etag(etag)}</ETag><Size>{size}</Size></Contents>"
        ).encode()
        return cls(key, size, etag, modified, element)


def _order(key: str) -> bytes:
    """S3 lists keys in the byte order of their UTF-8 encoding."""
    return key.encode("utf-8")


class Bucket:
    """One bucket's objects: files under ``root``, indexed in key order."""

    def __init__(self, name: str, root: Path, *, sync: bool = False) -> None:
        self.name, self.root, self.sync = name, root, sync
        self.order: list[bytes] = []  # the keys, sorted as S3 lists them
        self.listed: list[Entry] = []  # their entries, in the same order
        self.entries: dict[str, Entry] = {}
        self.locks = [asyncio.Lock() for _ in range(LOCKS)]
        # batches a merge replaced and unlisted: key -> (until when it is served, the merge)
        self.retired: dict[str, tuple[float, Staged]] = {}
        self._load()

    def _load(self) -> None:
        for path in self._files():
            if path.name.startswith(".tmp."):
                path.unlink(missing_ok=True)  # a write a kill interrupted: never acknowledged
                continue
            key = path.relative_to(self.root).as_posix()
            data = path.read_bytes()
            self.entries[key] = Entry.of(
                key, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(), path.stat().st_mtime
            )
        self.order = sorted(_order(key) for key in self.entries)
        self.listed = [self.entries[key.decode()] for key in self.order]

    def _files(self) -> Iterator[Path]:
        for directory, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".") or d.startswith(".tmp.")]
            for name in files:
                yield Path(directory, name)

    def lock(self, key: str) -> asyncio.Lock:
        return self.locks[hash(key) % LOCKS]

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(part in ("", ".", "..") or part.startswith(".") for part in parts) or "\0" in key:
            raise S3Error(400, "InvalidArgument", "This store does not keep that key.", key)
        return self.root.joinpath(*parts)

    def remember(self, entry: Entry) -> None:
        at = bisect.bisect_left(self.order, _order(entry.key))
        if entry.key in self.entries:
            self.listed[at] = entry
        else:
            self.order.insert(at, _order(entry.key))
            self.listed.insert(at, entry)
        self.entries[entry.key] = entry

    def forget(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            at = bisect.bisect_left(self.order, _order(key))
            del self.order[at], self.listed[at]

    def write(self, key: str, data: bytes) -> Entry:
        """Write ``data`` as ``key``, durably and atomically (runs in a worker thread)."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.parent / f".tmp.{os.urandom(8).hex()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self.sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if self.sync:
            directory = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return Entry.of(key, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(), final.stat().st_mtime)

    def partitions(self) -> dict[str, list[int]]:
        """The broker's partitions in this bucket: the prefix of their batches' keys, and the batches'
        offsets in order."""
        found: dict[str, list[int]] = defaultdict(list)
        for entry in self.listed:
            if (batch := BATCH_KEY.fullmatch(entry.key)) is not None:
                found[entry.key[: batch.start(4)]].append(int(batch[4]))
        return found

    def replaced(self, key: str) -> bytes | None:
        """What a reader that listed a partition before a merge was put in place gets for a key the
        merge replaced, for ``RETIRED_FOR_S`` after it: the merge's records from that key's on."""
        found = self.retired.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1].from_offset(int(key[-26:-6]))

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            pass
        self.forget(key)

    def listing(
        self, prefix: str, after: str | None, limit: int, delimiter: str | None
    ) -> tuple[list[Entry], list[str], str | None]:
        """A page of keys under ``prefix`` after ``after``: the objects, the common prefixes (with a
        delimiter) and where the next page resumes when more follow. A resume point is a key, or a
        common prefix followed by U+10FFFF (nothing below it is listed again)."""
        start = bisect.bisect_left(self.order, _order(prefix))
        if after is not None and _order(after) >= _order(prefix):
            start = bisect.bisect_right(self.order, _order(after))
        stop = bisect.bisect_left(self.order, _order(prefix) + b"\xff", lo=start) if prefix else len(self.order)
        if not delimiter:
            page = self.listed[start : min(stop, start + limit)]
            more = start + len(page) < stop
            return page, [], (page[-1].key if more and page else None)
        entries: list[Entry] = []
        prefixes: list[str] = []
        position, last = start, None
        while position < stop and len(entries) + len(prefixes) < limit:
            key = self.order[position].decode()
            cut = key.find(delimiter, len(prefix))
            if cut < 0:
                entries.append(self.listed[position])
                position, last = position + 1, key
                continue
            common = key[: cut + len(delimiter)]
            prefixes.append(common)
            position = bisect.bisect_left(self.order, _order(common) + b"\xff", lo=position)
            last = common + PAST
        return entries, prefixes, (last if position < stop else None)


class Signatures:
    """AWS Signature Version 4 in the ``Authorization`` header, checked for one access key."""

    def __init__(self, access_key: str, secret_key: str) -> None:
        self.access_key, self.secret_key = access_key, secret_key
        self._keys: dict[tuple[str, str, str], bytes] = {}

    def _signing_key(self, day: str, region: str, service: str) -> bytes:
        found = self._keys.get((day, region, service))
        if found is None:
            key = ("AWS4" + self.secret_key).encode()
            for part in (day, region, service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            found = self._keys[(day, region, service)] = key
        return found

    def check(self, scope: Scope, headers: dict[str, str], body: bytes) -> None:
        denied = S3Error(403, "SignatureDoesNotMatch", "The request signature does not match.")
        algorithm, _, fields = headers.get("authorization", "").partition(" ")
        if algorithm != "AWS4-HMAC-SHA256":
            raise S3Error(403, "AccessDenied", "Requests must be signed with AWS Signature Version 4.")
        parts = dict(field.strip().partition("=")[::2] for field in fields.split(","))
        credential = parts.get("Credential", "").split("/")
        if len(credential) != 5 or credential[4] != "aws4_request":
            raise denied
        if not hmac.compare_digest(credential[0], self.access_key):
            raise S3Error(403, "InvalidAccessKeyId", "The access key does not exist here.")
        signed = parts.get("SignedHeaders", "").split(";")
        if "host" not in signed:
            raise denied
        declared = headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        if SHA256_HEX.match(declared) and declared != (hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256):
            raise S3Error(400, "XAmzContentSHA256Mismatch", "The body does not match x-amz-content-sha256.")
        query = sorted(
            (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
            for name, value in parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
        )
        canonical = "\n".join(
            [
                scope["method"],
                (scope.get("raw_path") or scope["path"].encode()).decode(),
                "&".join(f"{name}={value}" for name, value in query),
                "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed),
                ";".join(signed),
                declared,
            ]
        )
        moment = headers.get("x-amz-date", "")
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", moment, "/".join(credential[1:]), hashlib.sha256(canonical.encode()).hexdigest()]
        )
        expected = hmac.new(self._signing_key(*credential[1:4]), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            raise denied


def _etag_matches(condition: str, etag: str | None) -> bool:
    """Whether an ``If-Match`` / ``If-None-Match`` list names ``etag`` (``*``: any existing object)."""
    if etag is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in condition.split(",")]
    return "*" in tags or etag in tags or etag.strip('"') in tags


class Store:
    """The ASGI application: routes S3 requests to the buckets under ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        signatures: Signatures | None,
        *,
        page: int = MAX_KEYS,
        sync: bool = False,
        compaction: Compaction | None = None,
    ) -> None:
        self.data_dir, self.signatures, self.page, self.sync = data_dir, signatures, page, sync
        self.compaction = compaction
        self.journal = data_dir / JOURNAL
        repaired = repair_journaled(self.journal)  # before the index is read: what a kill mid-merge left
        if repaired:
            print(f"repaired an interrupted compaction: {repaired} leftover keys removed", flush=True)
        self._compacting: asyncio.Task[None] | None = None
        self.buckets = {
            child.name: Bucket(child.name, child, sync=sync)
            for child in sorted(data_dir.iterdir())
            if child.is_dir() and not child.name.startswith(".")
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                if self.compaction is not None and self._compacting is None:
                    self._compacting = asyncio.create_task(self._compact_forever(self.compaction))
                await send({"type": "lifespan.startup.complete"})
            if self._compacting is not None:
                self._compacting.cancel()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            headers[key] = f"{headers[key]},{value.decode('latin-1')}" if key in headers else value.decode("latin-1")
        try:
            if self.signatures is not None:
                self.signatures.check(scope, headers, bytes(body))
            status, answer_headers, answer = await self.handle(scope, headers, bytes(body))
        except S3Error as error:
            status, answer_headers, answer = error.status, {"Content-Type": "application/xml"}, error.xml()
        if scope["method"] == "HEAD":
            answer_headers.setdefault("Content-Length", str(len(answer)))
            answer = b""
        else:
            answer_headers["Content-Length"] = str(len(answer))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in answer_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def bucket(self, name: str) -> Bucket:
        found = self.buckets.get(name)
        if found is None:
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist.", name)
        return found

    async def handle(self, scope: Scope, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        method = scope["method"]
        name, _, key = unquote(scope["path"]).lstrip("/").partition("/")
        query = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
        if not name:
            raise S3Error(501, "NotImplemented", "Listing buckets is not served.")
        if not key:
            return await self.on_bucket(method, name, query, body)
        bucket = self.bucket(name)
        async with bucket.lock(key):
            if method == "PUT":
                return await self.put(bucket, key, headers, body)
            if method in ("GET", "HEAD"):
                return self.get(bucket, key, headers)
            if method == "DELETE":
                await asyncio.to_thread(bucket.delete, key)
                return 204, {}, b""
        raise S3Error(501, "NotImplemented", f"{method} of an object is not served (multipart uploads are not).")

    async def on_bucket(
        self, method: str, name: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if method == "PUT":
            if name not in self.buckets:
                (self.data_dir / name).mkdir(exist_ok=True)
                self.buckets[name] = Bucket(name, self.data_dir / name, sync=self.sync)
            return 200, {"Location": f"/{name}"}, b""
        bucket = self.bucket(name)
        if method == "HEAD":
            return 200, {}, b""
        if method == "GET" and query.get("list-type") == "2":
            return 200, {"Content-Type": "application/xml"}, self.list_v2(bucket, query)
        if method == "POST" and "delete" in query:
            return 200, {"Content-Type": "application/xml"}, await self.delete_many(bucket, body)
        raise S3Error(501, "NotImplemented", f"{method} of a bucket with {sorted(query)} is not served.")

    async def put(
        self, bucket: Bucket, key: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        current = bucket.entries.get(key)
        etag = current.etag if current else None
        if "if-none-match" in headers and (etag is not None and _etag_matches(headers["if-none-match"], etag)):
            raise precondition_failed(key)
        if "if-match" in headers and not _etag_matches(headers["if-match"], etag):
            raise precondition_failed(key)
        source = headers.get("x-amz-copy-source")
        if source is not None:
            source_bucket, _, source_key = unquote(source).lstrip("/").partition("/")
            origin = self.bucket(source_bucket)
            if source_key not in origin.entries:
                raise no_such_key(source_key)
            body = await asyncio.to_thread(origin.path(source_key).read_bytes)
        entry = await asyncio.to_thread(bucket.write, key, body)
        bucket.remember(entry)
        if source is None:
            return 200, {"ETag": entry.etag}, b""
        result = (
            f'<CopyObjectResult xmlns="{XMLNS}"><LastModified>{iso_time(entry.modified)}</LastModified>'
            f"<ETag>{xml_etag(entry.etag)}</ETag></CopyObjectResult>"
        )
        return 200, {"ETag": entry.etag, "Content-Type": "application/xml"}, XML_HEAD + result.encode()

    def get(self, bucket: Bucket, key: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        entry = bucket.entries.get(key)
        data = None
        if entry is None:
            data = bucket.replaced(key)
            if data is None:
                raise no_such_key(key)
            entry = Entry.of(key, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(), time.time())
        described = {
            "ETag": entry.etag,
            "Last-Modified": formatdate(entry.modified, usegmt=True),
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        if "if-match" in headers and not _etag_matches(headers["if-match"], entry.etag):
            raise precondition_failed(key)
        if "if-none-match" in headers and _etag_matches(headers["if-none-match"], entry.etag):
            return 304, described, b""
        if data is None:
            data = bucket.path(key).read_bytes()
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", headers.get("range", ""))
        if wanted and (wanted[1] or wanted[2]):
            first, last = wanted[1], wanted[2]
            start = int(first) if first else max(0, len(data) - int(last))
            end = min(int(last), len(data) - 1) if first and last else len(data) - 1
            if start > end or start >= len(data):
                raise S3Error(416, "InvalidRange", "The requested range is not satisfiable.", key)
            described["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return 206, described, data[start : end + 1]
        return 200, described, data

    def list_v2(self, bucket: Bucket, query: dict[str, str]) -> bytes:
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter") or None
        try:
            limit = min(int(query["max-keys"]), MAX_KEYS) if "max-keys" in query else self.page
        except ValueError as exc:
            raise S3Error(400, "InvalidArgument", "max-keys must be a number.") from exc
        if limit < 0:
            raise S3Error(400, "InvalidArgument", "max-keys must not be negative.")
        token = query.get("continuation-token")
        after = query.get("start-after")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except ValueError as exc:
                raise S3Error(400, "InvalidArgument", "The continuation token is not valid.") from exc
        entries, prefixes, last = bucket.listing(prefix, after, limit, delimiter)
        url = query.get("encoding-type") == "url"

        def text(value: str) -> str:
            return quote(value, safe="/") if url else escape(value)

        head = [f'<ListBucketResult xmlns="{XMLNS}"><Name>{escape(bucket.name)}</Name><Prefix>{text(prefix)}</Prefix>']
        head.append(f"<KeyCount>{len(entries) + len(prefixes)}</KeyCount><MaxKeys>{limit}</MaxKeys>")
        if delimiter:
            head.append(f"<Delimiter>{text(delimiter)}</Delimiter>")
        if url:
            head.append("<EncodingType>url</EncodingType>")
        head.append(f"<IsTruncated>{'true' if last else 'false'}</IsTruncated>")
        if token:
            head.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
        if last:
            head.append(
                f"<NextContinuationToken>{base64.urlsafe_b64encode(last.encode()).decode()}</NextContinuationToken>"
            )
        if query.get("start-after"):
            head.append(f"<StartAfter>{text(query['start-after'])}</StartAfter>")
        if url:
            elements = b"".join(
                entry.element.replace(
                    f"<Key>{escape(entry.key)}</Key>".encode(), f"<Key>{text(entry.key)}</Key>".encode()
                )
                for entry in entries
            )
        else:
            elements = b"".join([entry.element for entry in entries])
        common = "".join(f"<CommonPrefixes><Prefix>{text(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        return XML_HEAD + "".join(head).encode() + elements + common.encode() + b"</ListBucketResult>"

    async def delete_many(self, bucket: Bucket, body: bytes) -> bytes:
        """``POST ?delete``: the keys are read from the request's ``<Key>`` elements (no XML parser
        runs on a request)."""
        text = body.decode("utf-8", errors="replace")
        if "<Delete" not in text:
            raise S3Error(400, "MalformedXML", "The delete request names no keys.")
        keys = [unescape(key, {"&quot;": '"', "&apos;": "'"}) for key in DELETE_KEY.findall(text)]
        quiet = QUIET.search(text) is not None
        for key in keys:
            async with bucket.lock(key):
                await asyncio.to_thread(bucket.delete, key)
        deleted = "" if quiet else "".join(f"<Deleted><Key>{escape(key)}</Key></Deleted>" for key in keys)
        return XML_HEAD + f'<DeleteResult xmlns="{XMLNS}">{deleted}</DeleteResult>'.encode()

    # ------------------------------------------------------------ compaction while the broker runs

    async def _compact_forever(self, compaction: Compaction) -> None:
        while True:
            await asyncio.sleep(compaction.every_s)
            try:
                await self.compact(compaction)
            except Exception as exc:  # noqa: BLE001 - left as it is; the next pass or start tries again
                print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} compaction skipped: {exc}", flush=True)

    async def compact(self, compaction: Compaction) -> int:
        """Merge the old batches of every partition longer than ``compaction.over`` objects while the
        broker serves from them (docs/decisions/0003); how many merged batches were put in place."""
        merged = 0
        now = time.monotonic()
        for bucket in list(self.buckets.values()):
            bucket.retired = {key: found for key, found in bucket.retired.items() if found[0] >= now}
            for prefix, offsets in bucket.partitions().items():
                if len(offsets) > compaction.over:
                    merged += await self._compact_partition(bucket, prefix, offsets, compaction.keep)
        return merged

    async def _compact_partition(self, bucket: Bucket, prefix: str, offsets: list[int], keep: int) -> int:
        batch = BATCH_KEY.fullmatch(f"{prefix}{0:020}.batch")
        assert batch is not None
        cluster, topic, partition = batch[1], batch[2], int(batch[3])
        records = bucket.root.joinpath(*prefix.rstrip("/").split("/"))
        # a pass that failed between its renames and its deletes left unlisted files behind: gone first
        await asyncio.to_thread(repair_journaled, self.journal)
        commits = await asyncio.to_thread(committed_offsets, bucket.root / "clusters" / cluster)
        staged = await asyncio.to_thread(
            stage_partition, records, offsets, commits.get((topic, partition), []), self.journal, keep=keep
        )
        # each merge is put in place in one step of the event loop: no request is served between the
        # rename over its first key and its other keys leaving the listing
        replaced: list[int] = []
        until = time.monotonic() + RETIRED_FOR_S
        try:
            for merge in staged:
                keys = [f"{prefix}{offset:020}.batch" for offset, _ in merge.run]
                if not all(key in bucket.entries for key in keys):  # deleted meanwhile: left alone
                    Path(merge.temporary).unlink(missing_ok=True)
                    continue
                put_in_place(merge)
                bucket.remember(Entry.of(keys[0], merge.size, merge.md5, merge.modified_ns / 1e9))
                for key in keys[1:]:
                    bucket.forget(key)
                    bucket.retired[key] = (until, merge)
                replaced.extend(merge.replaced)
        finally:
            if staged:
                await asyncio.to_thread(retire, records, replaced, self.journal)
        if staged:
            print(
                f"{time.strftime('%Y-%m-%dT%H:%M:%S')} compacted {topic}/{partition}: {len(offsets)} objects to "
                f"{len(offsets) - len(replaced)}, {len(staged)} merged batches",
                flush=True,
            )
        return len(staged)


@dataclass(frozen=True)
class Compaction:
    """Compaction while the broker runs: every ``every_s`` seconds, partitions of more than ``over``
    objects have their old batches merged, the newest ``keep`` left as they are."""

    every_s: float
    over: int = COMPACT_FROM
    keep: int = KEEP


def main() -> None:
    parser = argparse.ArgumentParser(description="The broker's local S3 store")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument(
        "--page", type=int, default=MAX_KEYS, help="the most keys a listing page holds when the client names no number"
    )
    parser.add_argument(
        "--sync", action="store_true", help="sync each object and its directory to disk before answering"
    )
    parser.add_argument(
        "--compact-every",
        type=float,
        default=0.0,
        help="seconds between passes that merge the old batches of long partitions while the broker runs (0: never)",
    )
    parser.add_argument(
        "--compact-over", type=int, default=COMPACT_FROM, help="objects from which a partition is compacted"
    )
    parser.add_argument("--compact-keep", type=int, default=KEEP, help="newest objects of a partition left as they are")
    args = parser.parse_args()
    access, secret = os.environ.get("S3_ACCESS_KEY"), os.environ.get("S3_SECRET_KEY")
    if not access or not secret:
        parser.error("S3_ACCESS_KEY and S3_SECRET_KEY must be set")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    compaction = (
        Compaction(args.compact_every, args.compact_over, args.compact_keep) if args.compact_every > 0 else None
    )
    store = Store(args.data_dir, Signatures(access, secret), page=args.page, sync=args.sync, compaction=compaction)
    uvicorn.run(store, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
