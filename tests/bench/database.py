"""The local database's own limits that shape the platform's code: what a drop costs everyone else,
and what the sessions it has ever seen cost every transaction.

``python -m tests.bench.database [documents] [sessions]`` starts a durable local database of its own
(``--sync-on-commit``, as ``make run`` does) in a scratch folder and measures:

1. **A drop and everyone else.** A probe commits one small transaction every 10 ms on another
   database while a collection of ``documents`` documents goes, first dropped in one statement,
   then emptied a batch at a time and dropped (``shared.mongo.drop_gradually``). Reported: how
   long each took and the probe's p99 and longest transaction meanwhile.
2. **Sessions ever seen.** Four writers run the markets' status transaction shape (read, update,
   insert) for a few seconds; then ``sessions`` other clients each run one transaction and close;
   then the four writers again. Reported: transactions/s before and after (ratio).

Decision 10 says what the platform does about each.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from devkit.testing import LocalMongo
from shared.mongo import drop_gradually
from tests.bench.stats import percentile

Client = AsyncMongoClient[dict[str, Any]]
WRITERS = 4


async def _probe(client: Client, stop: asyncio.Event, took: list[float]) -> None:
    collection = client["probe"]["c"]
    while not stop.is_set():
        began = time.perf_counter()
        async with client.start_session() as session, await session.start_transaction():
            await collection.update_one({"_id": 1}, {"$inc": {"n": 1}}, upsert=True, session=session)
        took.append(time.perf_counter() - began)
        await asyncio.sleep(0.01)


async def _fill(client: Client, name: str, documents: int) -> None:
    docs = [{"_id": n, "area": f"a{n % 50}", "payload": "x" * 200, "n": n} for n in range(documents)]
    for start in range(0, documents, 5000):
        await client["victim"][name].insert_many(docs[start : start + 5000])


async def _beside(client: Client, action: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Run ``action`` while the probe commits beside it."""
    took: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(client, stop, took))
    await asyncio.sleep(1.0)
    began = time.perf_counter()
    await action()
    seconds = time.perf_counter() - began
    await asyncio.sleep(0.5)
    stop.set()
    await probe
    return {
        "seconds": round(seconds, 2),
        "probe_p99_ms": round(percentile(took, 0.99) * 1000, 1),
        "probe_max_ms": round(max(took) * 1000, 1),
        "probe_transactions": len(took),
    }


async def drops(client: Client, documents: int) -> dict[str, dict[str, float]]:
    await client["probe"].create_collection("c")
    await _fill(client, "whole", documents)
    whole = await _beside(client, lambda: client["victim"].drop_collection("whole"))
    await _fill(client, "gradual", documents)
    gradual = await _beside(client, lambda: drop_gradually(client["victim"], "gradual"))
    return {"one statement": whole, "a batch at a time": gradual}


async def _writer(client: Client, key: int, until: float) -> int:
    stalls, history = client["writes"]["stalls"], client["writes"]["history"]
    done = 0
    while time.perf_counter() < until:
        async with client.start_session() as session, await session.start_transaction():
            stall = await stalls.find_one({"_id": key}, session=session)
            assert stall is not None
            await stalls.update_one({"_id": key}, {"$set": {"v": stall["v"] + 1}}, session=session)
            await history.insert_one({"stall": key, "v": stall["v"] + 1}, session=session)
        done += 1
    return done


async def _rate(url: str, seconds: float) -> float:
    client: Client = AsyncMongoClient(url)
    try:
        until = time.perf_counter() + seconds
        done = await asyncio.gather(*(_writer(client, key, until) for key in range(WRITERS)))
        return sum(done) / seconds
    finally:
        await client.close()


async def sessions_seen(url: str, sessions: int, seconds: float = 6.0) -> dict[str, float]:
    setup: Client = AsyncMongoClient(url)
    await setup["writes"].create_collection("history")
    await setup["writes"]["stalls"].insert_many([{"_id": key, "v": 0} for key in range(WRITERS)])
    await setup["other"].create_collection("c")
    await setup.close()
    before = await _rate(url, seconds)
    began = time.perf_counter()
    for _ in range(sessions):
        client: Client = AsyncMongoClient(url)
        async with client.start_session() as session, await session.start_transaction():
            await client["other"]["c"].insert_one({"n": 1}, session=session)
        await client.close()
    churn_s = time.perf_counter() - began
    after = await _rate(url, seconds)
    return {
        "sessions": sessions,
        "before_per_s": round(before),
        "after_per_s": round(after),
        "after_vs_before": round(after / before, 3),
        "churn_seconds": round(churn_s, 1),
    }


async def run(workdir: Path, *, documents: int = 20_000, sessions: int = 1000) -> dict[str, Any]:
    mongo = LocalMongo(workdir / "mongo", in_memory=False)
    mongo.start()
    try:
        client: Client = AsyncMongoClient(mongo.url, socketTimeoutMS=300_000)
        try:
            dropped = await drops(client, documents)
        finally:
            await client.close()
        return {"documents": documents, "drops": dropped, "sessions": await sessions_seen(mongo.url, sessions)}
    finally:
        mongo.stop()


def render(figures: dict[str, Any]) -> str:
    lines = [
        f"A drop of a collection of {figures['documents']:,} documents, with a probe committing one small "
        "transaction every 10 ms on another database:",
        "",
        "| drop | took s | probe p99 ms | probe longest ms | probe transactions |",
        "|---|---|---|---|---|",
    ]
    for how, row in figures["drops"].items():
        lines.append(
            f"| {how} | {row['seconds']} | {row['probe_p99_ms']} | {row['probe_max_ms']} | {row['probe_transactions']} |"
        )
    s = figures["sessions"]
    lines += [
        "",
        f"Four writers' transactions/s before and after {s['sessions']:,} other sessions each ran one transaction:",
        "",
        "| before /s | after /s | after ÷ before |",
        "|---|---|---|",
        f"| {s['before_per_s']} | {s['after_per_s']} | {s['after_vs_before']} |",
    ]
    return "\n".join(lines)


def main() -> None:
    documents = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with tempfile.TemporaryDirectory(prefix="database-bench-") as workdir:
        figures = asyncio.run(run(Path(workdir), documents=documents, sessions=sessions))
    print(render(figures))


if __name__ == "__main__":
    main()
