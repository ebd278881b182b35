"""Transactions on the real database: concurrent writers to one document take turns."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from pymongo import DESCENDING, AsyncMongoClient, monitoring
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from devkit.testing import LocalKafka, LocalMongo, make_settings
from shared.errors import Conflict, NotFound
from shared.i18n import Said
from shared.mongo import (
    ONE_COMMAND_UP_TO,
    Mongo,
    delete,
    drop_database_gradually,
    drop_gradually,
    find_existing,
    find_page,
    insert,
    insert_new,
    overwrite,
    overwrite_if,
    replace,
    update,
    write,
)
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_concurrent_transactions_on_one_document_all_commit(infra: tuple[LocalKafka, LocalMongo]) -> None:
    kafka, mongo_server = infra
    mongo = Mongo(make_settings(ServiceSettings, kafka, mongo_server))
    await mongo.db.counters.insert_one({"_id": "c", "n": 0})

    async def increment(session: AsyncClientSession) -> None:
        doc = await mongo.db.counters.find_one({"_id": "c"}, session=session)
        assert doc is not None
        await mongo.db.counters.update_one({"_id": "c"}, {"$set": {"n": doc["n"] + 1}}, session=session)

    await asyncio.gather(*(mongo.transaction(increment) for _ in range(16)))
    doc = await mongo.db.counters.find_one({"_id": "c"})
    await mongo.close()
    assert doc is not None and doc["n"] == 16, "no increment may be lost or fail under contention"


async def test_indexes_are_ensured_again_after_a_database_restart(durable_mongo: LocalMongo) -> None:
    from pymongo import IndexModel

    from shared.settings import ServiceSettings

    spec = {
        "places": [
            IndexModel([("location", "2dsphere")], name="location"),
            IndexModel([("code", 1)], name="code", unique=True),
        ]
    }
    settings = ServiceSettings(mongo_url=durable_mongo.url, mongo_db="restart_indexes")
    mongo = Mongo(settings)
    await mongo.ensure_indexes(spec)
    await mongo.close()
    durable_mongo.stop()
    durable_mongo.start()
    mongo = Mongo(settings)
    await mongo.ensure_indexes(spec)
    names = {ix["name"] async for ix in await mongo.db.places.list_indexes()}
    await mongo.close()
    assert {"location", "code"} <= names


async def test_an_index_build_a_crash_interrupted_is_done_again(infra: tuple[LocalKafka, LocalMongo]) -> None:
    """A build still recorded at start may have left part of its entries: the index is dropped and built anew."""
    from pymongo import IndexModel

    from shared.mongo import INDEX_BUILDS

    kafka, mongo_server = infra
    mongo = Mongo(make_settings(ServiceSettings, kafka, mongo_server))
    try:
        spec = {"places": [IndexModel([("code", 1)], name="code")], "empty": []}
        await mongo.db.places.insert_many([{"_id": n, "code": n} for n in range(20)])
        # what a crash during the build leaves: the record of the build and an index of that name
        await mongo.db.places.create_index([("code", 1)], name="code", sparse=True)
        await mongo.db[INDEX_BUILDS].insert_one({"_id": "places.code", "collection": "places", "index": "code"})
        await mongo.ensure_indexes(spec)
        indexes = {ix["name"]: ix async for ix in await mongo.db.places.list_indexes()}
        assert "sparse" not in indexes["code"], "the interrupted build was kept"
        assert await mongo.db[INDEX_BUILDS].count_documents({}) == 0
        assert "empty" in await mongo.db.list_collection_names()
        assert len(await mongo.db.places.find({"code": {"$gte": 0}}).hint("code").to_list()) == 20
    finally:
        await mongo.close()


def _things(infra: tuple[LocalKafka, LocalMongo]) -> tuple[Mongo, AsyncCollection[dict[str, Any]]]:
    """A service's database client and a collection of its own for one test."""
    kafka, mongo_server = infra
    mongo = Mongo(make_settings(ServiceSettings, kafka, mongo_server))
    return mongo, mongo.db[f"things_{uuid.uuid4().hex[:8]}"]


async def test_a_page_counts_every_match_and_an_overwrite_needs_its_guard(infra: tuple[LocalKafka, LocalMongo]) -> None:
    mongo, things = _things(infra)
    await things.insert_many([{"_id": f"t{i}", "n": i, "made": "then"} for i in range(5)])

    page, total = await find_page(
        things, {"n": {"$gte": 1}}, [("n", DESCENDING)], lambda d: d["_id"], limit=2, offset=1
    )
    assert (page, total) == (["t3", "t2"], 4)

    assert await overwrite_if(things, {"_id": "t1", "n": 10, "made": "now"}, {"n": 1}, keep={"made"})
    assert await things.find_one({"_id": "t1"}) == {"_id": "t1", "n": 10, "made": "then"}
    assert not await overwrite_if(things, {"_id": "t1", "n": 11, "made": "now"}, {"n": 1}), "the guard no longer holds"
    assert await things.find_one({"_id": "t1"}) == {"_id": "t1", "n": 10, "made": "then"}
    await mongo.close()


async def test_a_missing_record_is_a_404_and_a_taken_key_a_409_in_the_stores_words(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    mongo, things = _things(infra)
    await insert_new(things, {"_id": "t1", "n": 1}, Said("t1 c'è già", "t1 exists"))
    assert await find_existing(things, {"_id": "t1"}, Said("non c'è t1", "no t1")) == {"_id": "t1", "n": 1}

    with pytest.raises(NotFound) as missing:
        await find_existing(things, {"_id": "t2"}, Said("non c'è t2", "no t2"))
    assert (missing.value.detail_in("it"), missing.value.detail_in("en")) == ("non c'è t2", "no t2")
    with pytest.raises(Conflict) as taken:
        await insert_new(things, {"_id": "t1", "n": 2}, Said("t1 c'è già", "t1 exists"))
    assert (taken.value.detail_in("it"), taken.value.detail_in("en")) == ("t1 c'è già", "t1 exists")
    assert await things.find_one({"_id": "t1"}) == {"_id": "t1", "n": 1}, "the first record stays as it was"
    await mongo.close()


class Deletes(monitoring.CommandListener):
    """What the delete and drop statements a client sends ask for, and when each ran."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.drops = 0
        self.spans: list[tuple[float, float]] = []
        self._began = 0.0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "delete":
            self.sizes += [len(d["q"]["_id"]["$in"]) for d in event.command["deletes"]]
            self._began = time.monotonic()
        self.drops += event.command_name in ("drop", "dropDatabase")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name == "delete":
            self.spans.append((self._began, time.monotonic()))

    def failed(self, event: monitoring.CommandFailedEvent) -> None: ...


async def test_a_collection_is_dropped_a_batch_at_a_time_and_nothing_else_goes(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    """No statement of the drop deletes more than a batch (the local database holds its storage lock
    for the whole of one statement: decision 10); the neighbours stay; a second call finds nothing."""
    _, mongo_server = infra
    deletes = Deletes()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_server.url, event_listeners=[deletes])
    db = client[f"drop_{uuid.uuid4().hex[:8]}"]
    await db.old.insert_many([{"_id": n, "payload": "x" * 50} for n in range(450)])
    await db.kept.insert_many([{"_id": n} for n in range(3)])

    assert await drop_gradually(db, "old", batch=200) == 450
    assert deletes.sizes == [200, 200, 50] and deletes.drops == 1
    assert await db.list_collection_names() == ["kept"] and await db.kept.count_documents({}) == 3
    assert await drop_gradually(db, "old", batch=200) == 0, "a drop a crash interrupted is finished by the next"

    assert await drop_database_gradually(db, batch=2) == 3
    assert deletes.sizes[3:] == [2, 1]
    assert db.name not in await client.list_database_names()
    await client.close()


async def test_a_drop_in_the_background_leaves_the_server_at_least_half_its_time(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    """With ``pause_ratio=1`` each delete is followed by a pause at least as long as it took."""
    _, mongo_server = infra
    timings = Deletes()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_server.url, event_listeners=[timings])
    db = client[f"drop_{uuid.uuid4().hex[:8]}"]
    await db.old.insert_many([{"_id": n, "payload": "x" * 200} for n in range(1_000)])
    assert await drop_gradually(db, "old", batch=200, pause_ratio=1.0) == 1_000
    assert len(timings.spans) == 5
    for (began, ended), (next_began, _) in zip(timings.spans, timings.spans[1:], strict=False):
        # the pause is measured around the statement, so it is a little longer than the span seen here
        assert next_began - ended >= (ended - began) * 0.9, timings.spans
    await client.close()


class Commands(monitoring.CommandListener):
    """The names of the commands a client sends about documents (not its own housekeeping)."""

    HOUSEKEEPING = frozenset({"hello", "isMaster", "ping", "endSessions", "buildInfo"})

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in self.HOUSEKEEPING:
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...

    def failed(self, event: monitoring.CommandFailedEvent) -> None: ...


def _listened(
    infra: tuple[LocalKafka, LocalMongo],
) -> tuple[Mongo, Commands, AsyncCollection[dict[str, Any]], AsyncCollection[dict[str, Any]]]:
    """A service's database client whose commands are listened to, and two collections of the test's own."""
    kafka, mongo_server = infra
    commands = Commands()
    mongo = Mongo(make_settings(ServiceSettings, kafka, mongo_server))
    mongo.client = AsyncMongoClient(mongo_server.url, event_listeners=[commands], tz_aware=True)
    mongo.db = mongo.client[mongo.db.name]
    return mongo, commands, mongo.db[f"stalls_{uuid.uuid4().hex[:8]}"], mongo.db[f"lines_{uuid.uuid4().hex[:8]}"]


async def test_the_writes_a_transaction_queues_go_to_the_server_in_one_command_before_its_commit(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    mongo, commands, stalls, lines = _listened(infra)
    await stalls.insert_one({"_id": "s1", "version": 1, "status": "open"})
    await lines.insert_one({"_id": "old"})

    async def work(session: AsyncClientSession) -> int:
        stall = await stalls.find_one({"_id": "s1"}, session=session)
        assert stall is not None
        guard = {"version": stall["version"]}
        changed = {"_id": "s1", "version": 2, "status": "closed"}
        await write(
            [overwrite(stalls, changed, guard), insert(lines, {"to": "closed"})],
            session,
        )
        await write([delete(lines, {"_id": "old"})], session)
        return await lines.count_documents({}, session=session)  # read before the queued writes are sent

    commands.names.clear()
    assert await mongo.transaction(work) == 1, "a read in the same work does not see what it queued"
    assert commands.names == ["find", "aggregate", "bulkWrite", "commitTransaction"]
    assert await stalls.find_one({"_id": "s1"}) == {"_id": "s1", "version": 2, "status": "closed"}
    assert [d["to"] async for d in lines.find({}, {"_id": 0})] == ["closed"]
    await mongo.client.close()


async def test_a_queued_update_whose_guard_no_longer_holds_aborts_the_transaction_with_its_error(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    mongo, _, stalls, lines = _listened(infra)
    await stalls.insert_one({"_id": "s1", "version": 3})
    changed_meanwhile = Conflict(Said("cambiato nel frattempo", "changed meanwhile"))

    async def work(session: AsyncClientSession) -> None:
        line = insert(lines, {"to": "closed"})
        await write(
            [line, overwrite(stalls, {"_id": "s1", "version": 3}, {"version": 2})],
            session,
            unmatched=changed_meanwhile,
        )

    with pytest.raises(Conflict) as refused:
        await mongo.transaction(work)
    assert refused.value is changed_meanwhile
    assert await lines.count_documents({}) == 0, "the write queued beside it is not kept"
    assert await stalls.find_one({"_id": "s1"}) == {"_id": "s1", "version": 3}
    await mongo.client.close()


async def test_concurrent_transactions_queueing_guarded_writes_to_one_document_all_commit(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    """A write conflict met by the queued writes is re-run like one met by a single write."""
    kafka, mongo_server = infra
    mongo = Mongo(make_settings(ServiceSettings, kafka, mongo_server))
    counters, lines = mongo.db[f"counters_{uuid.uuid4().hex[:8]}"], mongo.db[f"lines_{uuid.uuid4().hex[:8]}"]
    await counters.insert_one({"_id": "c", "n": 0})

    async def increment(session: AsyncClientSession) -> None:
        doc = await counters.find_one({"_id": "c"}, session=session)
        assert doc is not None
        bumped = overwrite(counters, {"_id": "c", "n": doc["n"] + 1}, {"n": doc["n"]})
        line = insert(lines, {"n": doc["n"] + 1})
        await write([bumped, line], session, unmatched=AssertionError("a guard read in the transaction failed"))

    await asyncio.gather(*(mongo.transaction(increment) for _ in range(16)))
    assert await counters.find_one({"_id": "c"}) == {"_id": "c", "n": 16}
    assert sorted([d["n"] async for d in lines.find()]) == list(range(1, 17)), "each line once, from its own turn"
    await mongo.close()


async def test_writes_outside_a_transaction_are_made_at_once_and_a_taken_key_is_a_duplicate_key_error(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    mongo, things = _things(infra)
    await write([insert(things, {"_id": "t1"})], None)
    assert await things.count_documents({}) == 1
    with pytest.raises(DuplicateKeyError):
        await write([insert(things, {"_id": "t1"})], None)
    await mongo.close()


async def test_a_long_queue_goes_as_one_command_for_each_run_of_writes_to_one_collection(
    infra: tuple[LocalKafka, LocalMongo],
) -> None:
    """Above ``ONE_COMMAND_UP_TO`` writes the local database runs a command per collection faster
    than one ``bulkWrite`` (decision 13); the order of the writes is kept."""
    mongo, commands, stalls, lines = _listened(infra)

    async def work(session: AsyncClientSession) -> None:
        await write([replace(stalls, {"_id": n}, {"n": n}, upsert=True) for n in range(ONE_COMMAND_UP_TO)], session)
        await write([insert(lines, {"n": n}) for n in range(3)], session)
        await write([update(stalls, {"_id": 0}, {"$set": {"last": True}})], session)

    commands.names.clear()
    await mongo.transaction(work)
    assert commands.names == ["update", "insert", "update", "commitTransaction"]
    assert await stalls.count_documents({}) == ONE_COMMAND_UP_TO and await lines.count_documents({}) == 3
    assert await stalls.find_one({"_id": 0}) == {"_id": 0, "n": 0, "last": True}, "the later write came later"

    async def taken(session: AsyncClientSession) -> None:
        await write([insert(lines, {"n": n}) for n in range(ONE_COMMAND_UP_TO)] + [insert(stalls, {"_id": 1})], session)

    with pytest.raises(DuplicateKeyError):
        await mongo.transaction(taken)
    assert await lines.count_documents({}) == 3, "nothing of the failed transaction is kept"
    await mongo.client.close()
