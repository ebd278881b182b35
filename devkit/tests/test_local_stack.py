"""The local broker and database keep acknowledged data across crashes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo.errors import PyMongoError

from devkit.stack.components import DOCUMENT_TABLES, LAYOUT_DB, document_tables, partition_batches
from devkit.testing import LocalKafka, LocalMongo
from shared.kafka import ensure_topics
from shared.mongo import Mongo
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration
COMMITS_BEFORE_THE_KILL = 60


async def _produce(bootstrap: str, topic: str, value: bytes) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        return int((await producer.send_and_wait(topic, value, partition=0)).offset)
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str) -> list[tuple[int, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        batches = await consumer.getmany(timeout_ms=2000)
        return [(m.offset, m.value) for records in batches.values() for m in records]
    finally:
        await consumer.stop()


async def test_broker_killed_keeps_acknowledged_records_and_appends_after_them(
    durable_kafka: LocalKafka, tmp_path: Path
) -> None:
    await ensure_topics(ServiceSettings(kafka_bootstrap=durable_kafka.bootstrap), ["durable"])
    assert await _produce(durable_kafka.bootstrap, "durable", b"before") == 0
    durable_kafka.kill()
    durable_kafka.start()
    assert await _produce(durable_kafka.bootstrap, "durable", b"after") == 1
    assert await _read(durable_kafka.bootstrap, "durable") == [(0, b"before"), (1, b"after")]
    # what `make status` counts: one object per produced batch, per partition
    assert partition_batches(tmp_path / "kafka") == {"durable/0": 2}  # partitions never written have none


async def test_database_syncing_on_commit_keeps_every_acknowledged_commit(durable_mongo: LocalMongo) -> None:
    """The harness's durable database is the default configuration: it syncs its log on every commit."""
    syncing_mongo = durable_mongo
    assert "--sync-on-commit" in syncing_mongo.part.process.argv
    settings = ServiceSettings(mongo_url=syncing_mongo.url, mongo_db="durability", mongo_timeout_ms=1000)
    mongo = Mongo(settings)
    acknowledged = 0
    enough = asyncio.Event()

    async def commit_forever() -> None:
        nonlocal acknowledged
        while True:

            async def work(session: object) -> None:
                await mongo.db.pairs.insert_one({"_id": acknowledged}, session=session)
                await mongo.db.copies.insert_one({"_id": acknowledged}, session=session)

            try:
                await mongo.transaction(work)
            except PyMongoError:
                return
            acknowledged += 1
            if acknowledged >= COMMITS_BEFORE_THE_KILL:
                enough.set()

    writer = asyncio.create_task(commit_forever())
    # the kill lands while the writer is still committing, after a number of commits, however slow the machine
    waiting = asyncio.create_task(enough.wait())
    await asyncio.wait([waiting, writer], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    syncing_mongo.kill()
    await writer
    await mongo.close()
    syncing_mongo.start()
    mongo = Mongo(settings)
    try:
        kept = await mongo.db.pairs.count_documents({})
        assert acknowledged >= COMMITS_BEFORE_THE_KILL
        # the commit in flight at the kill may have landed although its answer never came back
        assert acknowledged <= kept <= acknowledged + 1
        assert await mongo.db.copies.count_documents({}) == kept
    finally:
        await mongo.close()


def test_a_new_store_is_laid_out_whole_before_its_first_start(tmp_path: Path) -> None:
    """No table is created while the database serves: a crash then could leave a store that does not open."""
    server = LocalMongo(tmp_path, in_memory=False)
    server.start()
    try:
        store = tmp_path / "mongo"
        assert document_tables(store) == set(range(DOCUMENT_TABLES))
        assert not (tmp_path / "mongo.layout").exists()
        from pymongo import MongoClient

        client: MongoClient[dict[str, object]] = MongoClient(server.url)
        try:
            assert LAYOUT_DB not in client.list_database_names()
            files = sorted(p.name for p in store.glob("*.wt"))
            for n in range(40):  # collections of new names, in new databases, reach no new table
                client[f"db{n % 3}"][f"c{n}"].insert_one({"_id": n})
            assert sorted(p.name for p in store.glob("*.wt")) == files
        finally:
            client.close()
    finally:
        server.stop()
