"""The local database server: SecantusDB started as its own ``secantusd`` command starts it, except
that no thread of it keeps a read snapshot while it waits.

Run with the interpreter of the database's own virtualenv (``.tools/mongo``); it imports SecantusDB
and the standard library only. WiredTiger keeps every version written after the oldest read snapshot
still held, so one snapshot held for long stops it discarding any old version: the history grows
with every write until reads and writes stall (docs/decisions/0011-local-database-held-snapshots.md).
SecantusDB 0.7.0b3 leaves two such snapshots:

- opening an existing store positions a cursor of the starting thread's session, and that thread then
  only waits for the server to stop: the snapshot is held for the server's whole life;
- its TTL sweeper thread leaves its session positioned after each pass and waits 60 s for the next.

Here the starting thread lets go of its snapshot once the server is up
(``Storage.release_thread_snapshot``, what SecantusDB's connection threads call after each statement),
and then runs the TTL passes itself, every 60 s as the server's own sweeper would, letting go after
each one; the server's sweeper is off. Every session stays on the thread that opened it, as
SecantusDB requires, and the server stops on this thread too.

A pass deletes what each TTL index says has expired the way a client's ``deleteMany`` on the indexed
field would (``Storage.delete_matching``): through that index, under the collection's own lock, so
only expired documents are read. SecantusDB's own pass (``prune_ttl_all_collections``) decodes every
document of every collection with a TTL index while it holds the store's global lock: with 30,000
unexpired documents (a consumer's processed event ids over a day) each pass stopped every other
statement for about half a second.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from secantus import SecantusDBServer

# how often expired documents of TTL indexes are deleted (mongod's TTL monitor and SecantusDB's own
# sweeper: 60 s)
TTL_SWEEP_S = 60.0
log = logging.getLogger("devkit.stack.database")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--storage-path", required=True)
    parser.add_argument("--sync-on-commit", action="store_true", help="sync the log on every commit")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--ttl-sweep-seconds", type=float, default=TTL_SWEEP_S, help="seconds between TTL passes")
    return parser.parse_args(argv)


def expiring(storage: Any, now: datetime) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(database, collection, filter)`` of what each TTL index holds expired at ``now``: as mongod's TTL
    monitor reads them, by a single-field index other than ``_id`` with ``expireAfterSeconds``, a
    date (or an array holding one) before the cutoff, within the index's partial filter if it has one."""
    for database in storage.list_databases():
        for collection in storage.list_collections(database):
            for index in storage.list_indexes(database, collection):
                after, key = index.get("expireAfterSeconds"), index.get("key", {})
                if isinstance(after, bool) or not isinstance(after, int | float) or not after >= 0:
                    continue
                if len(key) != 1 or next(iter(key)) == "_id" or not isinstance(next(iter(key.values())), int | float):
                    continue
                try:
                    cutoff = now - timedelta(seconds=float(after))
                except OverflowError:
                    continue
                found: dict[str, Any] = {next(iter(key)): {"$lt": cutoff}}
                partial = index.get("partialFilterExpression")
                yield database, collection, {"$and": [found, dict(partial)]} if partial else found


def sweep(storage: Any, now: datetime | None = None) -> int:
    """One TTL pass; how many documents it deleted."""
    deleted = 0
    for database, collection, found in list(expiring(storage, now or datetime.now(UTC))):
        try:
            deleted += storage.delete_matching(database, collection, found)
        except Exception:  # a collection dropped meanwhile; the next pass sees the rest
            log.exception("TTL pass over %s.%s failed", database, collection)
    return deleted


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # the values ``secantusd`` passes when its configuration leaves them at their defaults, but for
    # the TTL sweeper: this thread sweeps (see above)
    server = SecantusDBServer(
        host=args.host,
        port=args.port,
        storage_path=args.storage_path,
        replica_set_name="secantus",
        enable_test_commands=False,
        sync_on_commit=args.sync_on_commit,
        ttl_sweep_seconds=0,
    )
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.start()
    storage = server.storage
    storage.release_thread_snapshot()
    while not stopping.wait(args.ttl_sweep_seconds):
        try:
            sweep(storage)
        except Exception:
            log.exception("TTL sweep failed")
        finally:
            storage.release_thread_snapshot()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
