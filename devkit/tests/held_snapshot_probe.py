"""Run with the local database's interpreter (``.tools/mongo/bin/python``), by
``test_local_database.py``: how far a held read snapshot keeps WiredTiger from discarding old
versions, on a store opened for the second time, with the server started by ``devkit/stack/database.py``
(``launcher``) or by SecantusDB's own command (``secantusd``).

``held_snapshot_probe.py launcher|secantusd <store folder> <port>`` creates the store, stops, starts the
server on it again on this (main) thread and, from another thread, writes to it with PyMongo, lets a
TTL pass run where the starting command allows one every second, and prints one JSON line: WiredTiger's
"transaction range of IDs currently pinned" (how many transactions' versions must be kept for the
oldest snapshot still held; the least of five looks a second long) after the writes, how many documents
whose TTL had expired are left and how many of those it must keep are still there.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import secantus.storage as storage_module
from pymongo import ASCENDING, MongoClient
from secantus import SecantusDBServer
from secantus.cli import main as secantusd_main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))
from database import main as launcher_main  # devkit/stack/database.py, imported as a file

WRITES = 300
PINNED = "transaction: transaction range of IDs currently pinned"
stores: list[Any] = []
_open = storage_module.wt.wiredtiger_open
_init = storage_module.Storage.__init__


def _with_statistics(home: str, config: str) -> Any:
    return _open(home, config + ",statistics=(fast)")  # WiredTiger counts only when asked to


def _remembered(self: Any, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    stores.append(self)


storage_module.wt.wiredtiger_open = _with_statistics
storage_module.Storage.__init__ = _remembered


def _pinned(store: Any) -> int:
    session = store._conn.open_session()
    try:
        cursor = session.open_cursor("statistics:", None, None)
        while cursor.next() == 0:
            description, _shown, value = cursor.get_value()
            if description == PINNED:
                return int(value)
        raise LookupError(PINNED)
    finally:
        session.close()


def _client(port: int) -> MongoClient[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=10_000)


def _probe(port: int, result: dict[str, Any]) -> None:
    try:
        client = _client(port)
        things = client["probe"]["things"]
        for _ in range(WRITES):
            things.update_one({"_id": "counter"}, {"$inc": {"n": 1}}, upsert=True)
        time.sleep(2.5)  # a TTL pass or two where the command runs them every second
        for _ in range(WRITES):
            things.update_one({"_id": "counter"}, {"$inc": {"n": 1}}, upsert=True)
        # the least of a few looks: a statement or a TTL pass running at one moment holds a snapshot
        # for its own length; one held for good shows in every look
        samples = []
        for _ in range(5):
            samples.append(_pinned(stores[-1]))
            time.sleep(0.2)
        result["pinned"] = min(samples)
        probe = client["probe"]
        result["expired_left"] = sum(probe[name].count_documents({"expired": True}) for name in ("expiring", "partial"))
        result["kept"] = sum(probe[name].count_documents({"expired": False}) for name in ("expiring", "partial"))
        client.close()
    except Exception as exc:  # reported, never hidden: the test fails on it
        result["error"] = repr(exc)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    command, folder, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    first = SecantusDBServer(port=port, storage_path=folder, sync_on_commit=True)
    first.start()
    client = _client(port)
    client["probe"]["things"].insert_one({"_id": "counter", "n": 0})
    probe, now = client["probe"], datetime.now(UTC)
    probe["expiring"].create_index([("at", ASCENDING)], expireAfterSeconds=0)
    probe["expiring"].insert_many(
        [
            {"at": now - timedelta(hours=1), "expired": True},
            {"at": [now + timedelta(hours=1), now - timedelta(hours=1)], "expired": True},  # any date in it
            {"at": now + timedelta(hours=1), "expired": False},
            {"at": "2020-01-01", "expired": False},  # not a date: never expires
            {"expired": False},
        ]
    )
    probe["partial"].create_index(
        [("at", ASCENDING)], expireAfterSeconds=60, partialFilterExpression={"kind": "temporary"}
    )
    probe["partial"].insert_many(
        [
            {"at": now - timedelta(hours=1), "kind": "temporary", "expired": True},
            {"at": now - timedelta(hours=1), "kind": "kept", "expired": False},  # outside the index
            {"at": now - timedelta(seconds=5), "kind": "temporary", "expired": False},
        ]
    )
    client.close()
    first.stop()
    result: dict[str, Any] = {"command": command}
    threading.Thread(target=_probe, args=(port, result), daemon=True).start()
    argv = ["--host", "127.0.0.1", "--port", str(port), "--storage-path", folder, "--sync-on-commit"]
    if command == "launcher":
        launcher_main([*argv, "--ttl-sweep-seconds", "1"])
    else:
        try:
            secantusd_main(argv)
        except SystemExit:
            pass
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
