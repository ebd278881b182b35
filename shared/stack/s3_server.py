"""The local S3 store for the broker: nanio, with S3 conditional writes enforced.

The broker keeps each partition's high watermark in an object it creates with
``If-None-Match: *`` and updates with ``If-Match: <etag>``, relying on S3's answer
``412 Precondition Failed`` to learn that the object already exists or has changed. nanio ignores
both headers, so after a restart the broker re-created its watermark at offset 0 and overwrote
acknowledged records. This wrapper answers those preconditions as S3 does, per key and atomically
(one process, one event loop, a lock per key), and otherwise serves nanio unchanged.

It runs as a script with the interpreter of the broker's own virtualenv (``.tools/kafka``), where
nanio is installed; the platform's virtualenv does not import it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import uvicorn
from nanio.app import build_app
from nanio.errors import NoSuchKey, PreconditionFailed

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def conditional_writes(inner: Any) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    storage = inner.state.storage
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
    app = conditional_writes(build_app())
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
