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
IndexSpec = dict[str, Sequence[IndexModel]]


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
        """Create the indexes a store declares; safe to run at every start.

        An index that already exists with the same name and keys is left alone (servers differ in
        the version options they add to a stored index, which would otherwise read as a conflict);
        the same name on different keys is a real conflict and raises.
        """
        for collection, indexes in specs.items():
            if not indexes:
                continue
            existing = {ix["name"]: dict(ix["key"]) async for ix in await self.db[collection].list_indexes()}
            missing = [
                model for model in indexes if existing.get(model.document["name"]) != dict(model.document["key"])
            ]
            if missing:
                await self.db[collection].create_indexes(missing)

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
