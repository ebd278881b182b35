"""MongoDB access through PyMongo's native asyncio client (the successor of Motor)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from shared.errors import Unavailable
from shared.retry import at_most
from shared.settings import ServiceSettings

T = TypeVar("T")
Document = dict[str, Any]
# A store's schema: every collection it uses, each with its indexes (an empty list for none).
IndexSpec = dict[str, Sequence[IndexModel]]
# Indexes being built, so that a build a crash interrupted is done again (see ``ensure_schema``).
INDEX_BUILDS = "index_builds"
NAMESPACE_EXISTS = 48
INDEX_NOT_FOUND = 27


async def ensure_schema(db: AsyncDatabase[Document], specs: IndexSpec) -> None:
    """Create the collections and indexes a store declares; safe to run at every start.

    Every collection is created explicitly, before anything writes to it, rather than by its first
    write. An index that already exists with the same name and keys is left alone (servers differ in
    the version options they add to a stored index, which would otherwise read as a conflict); the
    same name on different keys is a real conflict and raises. Each build is recorded while it runs:
    a database that builds an index in several steps (the local one does) may keep a half-built index
    after a crash, so a build found recorded is dropped and done again.
    """
    existing_collections = set(await db.list_collection_names())
    for name in [INDEX_BUILDS, *specs]:
        if name not in existing_collections:
            try:
                await db.create_collection(name, check_exists=False)
            except OperationFailure as exc:
                if exc.code != NAMESPACE_EXISTS:  # another replica created it meanwhile
                    raise
            existing_collections.add(name)
    async for build in db[INDEX_BUILDS].find():
        try:
            await db[build["collection"]].drop_index(build["index"])
        except OperationFailure as exc:
            if exc.code != INDEX_NOT_FOUND:
                raise
        await db[INDEX_BUILDS].delete_one({"_id": build["_id"]})
    for collection, indexes in specs.items():
        if not indexes:
            continue
        existing = {ix["name"]: dict(ix["key"]) async for ix in await db[collection].list_indexes()}
        for model in indexes:
            name = model.document["name"]
            if existing.get(name) == dict(model.document["key"]):
                continue
            build = {"_id": f"{collection}.{name}", "collection": collection, "index": name}
            await db[INDEX_BUILDS].replace_one({"_id": build["_id"]}, build, upsert=True)
            await db[collection].create_indexes([model])
            await db[INDEX_BUILDS].delete_one({"_id": build["_id"]})


class Mongo:
    """One client per process; ``db`` is the service's own database."""

    def __init__(self, settings: ServiceSettings, database: str | None = None) -> None:
        # with a CA file the connection is TLS whatever the URL says, and the members' certificates are checked
        tls: dict[str, Any] = (
            {"tls": True, "tlsCAFile": settings.mongo_tls_ca_file} if settings.mongo_tls_ca_file else {}
        )
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            settings.mongo_url,
            serverSelectionTimeoutMS=settings.mongo_timeout_ms,
            connectTimeoutMS=settings.mongo_timeout_ms,
            socketTimeoutMS=max(10_000, settings.mongo_timeout_ms * 5),
            tz_aware=True,
            uuidRepresentation="standard",
            appname=settings.service_name,
            **tls,
        )
        self.db: AsyncDatabase[Document] = self.client[database or settings.database_name]

    async def ping(self, timeout_s: float = 1.5) -> None:
        await asyncio.wait_for(self.client.admin.command("ping"), timeout_s)

    async def ensure_indexes(self, specs: IndexSpec) -> None:
        """The service database's collections and indexes, as :func:`ensure_schema` makes them."""
        await ensure_schema(self.db, specs)

    async def transaction(
        self,
        work: Callable[[AsyncClientSession], Awaitable[T]],
        *,
        attempts: int = 12,
    ) -> T:
        """Run ``work`` in one transaction, re-running it on transient write conflicts.

        ``work`` must be safe to re-run: it reads its inputs inside the transaction. Retries back
        off exponentially with jitter (up to about a second), so concurrent writers to the same
        documents take turns instead of failing.
        """
        try:
            async for attempt in at_most(attempts, _write_conflict, "transaction", first_wait_s=0.01, max_wait_s=1.0):
                with attempt:
                    async with self.client.start_session() as session, await session.start_transaction():
                        return await work(session)
        except OperationFailure as exc:
            if _write_conflict(exc):
                raise Unavailable("the record is being changed by many writers at once; retry in a moment") from exc
            raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def close(self) -> None:
        await self.client.close()


def _write_conflict(exc: Exception) -> bool:
    """A transaction that met a concurrent writer; re-running it reads the other's result."""
    return isinstance(exc, OperationFailure) and exc.has_error_label("TransientTransactionError")
