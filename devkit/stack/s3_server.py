"""The local S3 store for the broker: nanio, with S3 conditional writes and an indexed listing.

The broker keeps each partition's high watermark in an object it creates with
``If-None-Match: *`` and updates with ``If-Match: <etag>``, relying on S3's answer
``412 Precondition Failed`` to learn that the object already exists or has changed. nanio ignores
both headers, so after a restart the broker re-created its watermark at offset 0 and overwrote
acknowledged records. This wrapper answers those preconditions as S3 does, per key and atomically
(one process, one event loop, a lock per key), and otherwise serves nanio unchanged.

The broker finds a partition's record batches by listing every object under the partition's prefix
on each fetch. nanio answers a listing by walking the directory and reading each object's metadata
file, so a fetch cost grew with everything the partition ever held: after a few thousand batches,
consumers fell seconds behind. ``IndexedStorage`` keeps the keys sorted in memory with their
metadata, current with every write and delete that passes through it, and answers a page of a
listing without touching the disk; everything else is nanio's, including authentication and the
XML of the answer. Writes run on an event loop of their own, in a second thread: nanio syncs each
object and its metadata to disk inside the event loop, which otherwise held up every fetch behind
every produce.

It runs as a script with the interpreter of the broker's own virtualenv (``.tools/kafka``), where
nanio is installed; the platform's virtualenv does not import it.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import threading
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import nanio.handlers.bucket
import uvicorn
from nanio.app import build_app
from nanio.errors import InvalidArgument, NoSuchKey, PreconditionFailed
from nanio.storage.backend import ListResult, ObjectInfo
from nanio.storage.filesystem import _decode_token, _encode_token, _walk_keys

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


MAX_KEYS = 1000


class IndexedStorage:
    """nanio's filesystem storage with the listing served from a sorted in-memory index.

    Keys are kept in byte order, as S3 lists them. A bucket's index is built on its first listing
    (one walk of the bucket) and then kept current by ``put_object``, ``copy_object`` and
    ``delete_object``; anything that changes objects some other way (a multipart upload, a
    multi-object delete) calls ``forget`` so that the next listing walks the bucket again.
    Listings with a delimiter stay nanio's: the broker uses them only on small prefixes.

    ``put_object`` hands nanio's write to the writer loop; writes of one key take turns, and a read
    of a key waits for its write in progress, so the index and the disk change in the same order.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._keys: dict[str, list[str]] = {}
        self._info: dict[str, dict[str, ObjectInfo]] = {}
        self._writing: dict[tuple[str, str], asyncio.Lock] = {}
        self._writers: Counter[tuple[str, str]] = Counter()
        self._writer = asyncio.new_event_loop()
        threading.Thread(target=self._writer.run_forever, name="s3-writer", daemon=True).start()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def forget(self, bucket: str) -> None:
        self._keys.pop(bucket, None)
        self._info.pop(bucket, None)

    def _index(self, bucket: str) -> tuple[list[str], dict[str, ObjectInfo]]:
        if bucket not in self._keys:
            bdir = self._inner._require_bucket_dir(bucket)
            info: dict[str, ObjectInfo] = {}
            for key in _walk_keys(bdir, "", None, []):
                try:
                    info[key] = self._inner.head_object(bucket, key)
                except (NoSuchKey, FileNotFoundError):
                    continue
            self._keys[bucket] = sorted(info, key=_order)
            self._info[bucket] = info
        return self._keys[bucket], self._info[bucket]

    def _remember(self, bucket: str, info: ObjectInfo) -> None:
        if bucket not in self._keys:
            return  # not indexed yet: the first listing walks the bucket
        keys, infos = self._keys[bucket], self._info[bucket]
        if info.key not in infos:
            keys.insert(bisect.bisect_left(keys, _order(info.key), key=_order), info.key)
        infos[info.key] = info

    async def put_object(self, bucket: str, key: str, body: AsyncIterator[bytes], **options: Any) -> ObjectInfo:
        chunks = [chunk async for chunk in body]  # the request is read here, on the serving loop

        async def replay() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        slot = (bucket, key)
        lock = self._writing.setdefault(slot, asyncio.Lock())
        self._writers[slot] += 1
        try:
            async with lock:
                write = self._inner.put_object(bucket, key, replay(), **options)
                info: ObjectInfo = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(write, self._writer))
                self._remember(bucket, info)
        finally:
            self._writers[slot] -= 1
            if not self._writers[slot]:
                del self._writers[slot], self._writing[slot]
        return info

    async def get_object(self, bucket: str, key: str, **options: Any) -> Any:
        lock = self._writing.get((bucket, key))
        if lock is not None:
            async with lock:
                pass
        return await self._inner.get_object(bucket, key, **options)

    async def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> ObjectInfo:
        info: ObjectInfo = await self._inner.copy_object(src_bucket, src_key, dst_bucket, dst_key)
        self._remember(dst_bucket, info)
        return info

    def delete_object(self, bucket: str, key: str) -> None:
        self._inner.delete_object(bucket, key)
        if bucket in self._keys and self._info[bucket].pop(key, None) is not None:
            keys = self._keys[bucket]
            del keys[bisect.bisect_left(keys, _order(key), key=_order)]

    def create_bucket(self, bucket: str) -> Any:
        self.forget(bucket)
        return self._inner.create_bucket(bucket)

    def delete_bucket(self, bucket: str) -> None:
        self._inner.delete_bucket(bucket)
        self.forget(bucket)

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = MAX_KEYS,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListResult:
        if delimiter:
            return self._inner.list_objects(  # type: ignore[no-any-return]
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                max_keys=max_keys,
                continuation_token=continuation_token,
                start_after=start_after,
            )
        if max_keys < 0:
            raise InvalidArgument("max-keys must be >= 0")
        keys, infos = self._index(bucket)
        resume = _decode_token(continuation_token) if continuation_token else start_after
        if resume is not None and _order(resume) >= _order(prefix):
            start = bisect.bisect_right(keys, _order(resume), key=_order)
        else:
            start = bisect.bisect_left(keys, _order(prefix), key=_order)
        page: list[ObjectInfo] = []
        position, limit = start, min(max_keys, MAX_KEYS)
        while position < len(keys) and keys[position].startswith(prefix) and len(page) < limit:
            page.append(infos[keys[position]])
            position += 1
        more = position < len(keys) and keys[position].startswith(prefix)
        token = _encode_token(page[-1].key) if more and page else None
        return ListResult(
            contents=page, common_prefixes=[], is_truncated=more and bool(page), next_continuation_token=token
        )


class ListingXml:
    """nanio's ListObjectsV2 answer, with each object's ``<Contents>`` element rendered once.

    A page is nanio's own answer for no objects, with the count set and the cached elements
    inserted: the bytes are the same as nanio's (``devkit/tests/s3_store_check.py`` compares them).
    """

    END = b"</ListBucketResult>"
    LIMIT = 500_000

    def __init__(self, render: Callable[..., bytes]) -> None:
        self.render = render
        self.fragments: dict[tuple[Any, ...], bytes] = {}

    def __call__(
        self,
        *,
        contents: list[tuple[Any, ...]],
        common_prefixes: list[str],
        encoding_type: str | None = None,
        storage_class: str = "STANDARD",
        **page: Any,
    ) -> bytes:
        if common_prefixes or encoding_type or not contents:
            return self.render(
                contents=contents,
                common_prefixes=common_prefixes,
                encoding_type=encoding_type,
                storage_class=storage_class,
                **page,
            )
        empty = self.render(contents=[], common_prefixes=[], storage_class=storage_class, **page)
        head = empty[: -len(self.END)].replace(b"<KeyCount>0</KeyCount>", b"<KeyCount>%d</KeyCount>" % len(contents), 1)
        return head + b"".join(self._element(entry, storage_class) for entry in contents) + self.END

    def _element(self, entry: tuple[Any, ...], storage_class: str) -> bytes:
        cached = self.fragments.get((*entry, storage_class))
        if cached is None:
            if len(self.fragments) >= self.LIMIT:
                self.fragments.clear()
            whole = self.render(bucket="", contents=[entry], common_prefixes=[], storage_class=storage_class)
            cached = whole[whole.index(b"<Contents>") : whole.rindex(b"</Contents>") + len(b"</Contents>")]
            self.fragments[(*entry, storage_class)] = cached
        return cached


def _order(key: str) -> bytes:
    """S3 lists keys in the byte order of their UTF-8 encoding."""
    return key.encode("utf-8")


def indexed_listing(inner: Any) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Install ``IndexedStorage`` and drop a bucket's index after a request that bypasses it."""
    storage = IndexedStorage(inner.state.storage)
    inner.state.storage = storage
    if not isinstance(nanio.handlers.bucket.list_objects_v2_xml, ListingXml):
        nanio.handlers.bucket.list_objects_v2_xml = ListingXml(nanio.handlers.bucket.list_objects_v2_xml)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await inner(scope, receive, send)
            return
        bucket = unquote(scope["path"]).lstrip("/").partition("/")[0]

        async def forget_then_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                storage.forget(bucket)  # a multipart completion or a multi-object delete
            await send(message)

        try:
            await inner(scope, receive, forget_then_send)
        finally:
            storage.forget(bucket)

    return app


def conditional_writes(
    inner: Callable[[Scope, Receive, Send], Awaitable[None]], storage: Any
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def current_etag(path: str) -> str | None:
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        try:
            return str(storage.head_object(bucket, key).etag)
        except NoSuchKey:
            return None

    async def refuse(send: Send) -> None:
        error = PreconditionFailed()
        await send({"type": "http.response.start", "status": 412, "headers": [(b"content-type", b"application/xml")]})
        await send({"type": "http.response.body", "body": error.to_xml()})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT":
            await inner(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if_none_match, if_match = headers.get("if-none-match"), headers.get("if-match")
        if if_none_match is None and if_match is None:
            await inner(scope, receive, send)
            return
        async with locks[scope["path"]]:
            etag = current_etag(scope["path"])
            if if_none_match == "*" and etag is not None:
                await refuse(send)
                return
            if if_match is not None and if_match != "*" and (etag is None or etag.strip('"') != if_match.strip('"')):
                await refuse(send)
                return
            await inner(scope, receive, send)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Local S3 store with conditional writes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    os.environ["NANIO_DATA_DIR"] = args.data_dir
    nanio = build_app()
    app = conditional_writes(indexed_listing(nanio), nanio.state.storage)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
