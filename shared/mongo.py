"""MongoDB access through PyMongo's native asyncio client (the successor of Motor)."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from itertools import groupby
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints
from weakref import WeakKeyDictionary

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ClientBulkWriteException, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.operations import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

from shared.errors import Conflict, NotFound, Unavailable
from shared.i18n import Said
from shared.retry import at_most
from shared.settings import ServiceSettings

T = TypeVar("T")
Document = dict[str, Any]
# The transaction a store call takes part in; None outside one.
Session = AsyncClientSession | None
# A store's schema: every collection it uses, each with its indexes (an empty list for none).
IndexSpec = dict[str, Sequence[IndexModel]]
# Indexes being built, so that a build a crash interrupted is done again (see ``ensure_schema``).
INDEX_BUILDS = "index_builds"
NAMESPACE_EXISTS = 48
INDEX_NOT_FOUND = 27


# A sort order: (field, ASCENDING or DESCENDING) pairs, the first the most significant.
Order = Sequence[tuple[str, int]]
# PyMongo's model of one write, naming its collection (``namespace``) for the ``bulkWrite`` command.
Model = InsertOne[Document] | ReplaceOne[Document] | UpdateOne | UpdateMany | DeleteOne | DeleteMany
DUPLICATE_KEY = 11000
# Up to this many queued writes go in one ``bulkWrite``; more go as one command per run of writes to
# the same collection. On the local database one ``bulkWrite`` of the 3 writes of a stall change
# took 1.9 ms of its CPU against 2.5 ms for three commands, but one of 420 writes to three
# collections 69 to 82 ms against 49 to 61 ms for three (decision 13).
ONE_COMMAND_UP_TO = 64


async def find_existing(
    collection: AsyncCollection[Document], query: Document, missing: Said, session: Session = None
) -> Document:
    """The document ``query`` finds; 404 saying ``missing`` when there is none."""
    doc = await collection.find_one(query, session=session)
    if doc is None:
        raise NotFound(missing)
    return doc


async def insert_new(
    collection: AsyncCollection[Document], doc: Document, taken: Said, session: Session = None
) -> None:
    """Insert the document of a record that must be new; 409 saying ``taken`` when its key (or another
    unique index) is already there."""
    try:
        await collection.insert_one(doc, session=session)
    except DuplicateKeyError as exc:
        raise Conflict(taken) from exc


async def find_page(
    collection: AsyncCollection[Document],
    query: Document,
    order: Order,
    read: Callable[[Document], T],
    *,
    limit: int,
    offset: int,
) -> tuple[list[T], int]:
    """One page of the documents that match ``query`` in ``order``, each read by ``read``, and how
    many match in all."""
    total = await collection.count_documents(query)
    docs = await collection.find(query).sort(list(order)).skip(offset).limit(limit).to_list()
    return [read(d) for d in docs], total


async def overwrite_if(
    collection: AsyncCollection[Document],
    doc: Document,
    guard: Document,
    *,
    keep: Collection[str] = (),
    session: Session = None,
) -> bool:
    """Write ``doc`` over the stored document with its ``_id`` if that one still matches ``guard``
    (the fields named in ``keep`` stay as stored); False when it no longer matches."""
    result = await collection.update_one(*_overwriting(doc, guard, keep), session=session)
    return result.matched_count == 1


@dataclass(frozen=True)
class Write:
    """One write for :func:`write`: its collection and PyMongo's model of it. Made by :func:`insert`,
    :func:`replace`, :func:`update`, :func:`delete` and :func:`overwrite`."""

    collection: AsyncCollection[Document]
    model: Model

    @property
    def guardable(self) -> bool:
        """Whether it can match nothing (an update or a replacement)."""
        return isinstance(self.model, (UpdateOne, UpdateMany, ReplaceOne))


def insert(collection: AsyncCollection[Document], doc: Document) -> Write:
    return Write(collection, InsertOne(doc, namespace=collection.full_name))


def replace(collection: AsyncCollection[Document], query: Document, doc: Document, *, upsert: bool = False) -> Write:
    return Write(collection, ReplaceOne(query, doc, upsert=upsert, namespace=collection.full_name))


def update(
    collection: AsyncCollection[Document],
    query: Document,
    change: Document,
    *,
    upsert: bool = False,
    many: bool = False,
) -> Write:
    kind = UpdateMany if many else UpdateOne
    return Write(collection, kind(query, change, upsert=upsert, namespace=collection.full_name))


def delete(collection: AsyncCollection[Document], query: Document, *, many: bool = False) -> Write:
    return Write(collection, (DeleteMany if many else DeleteOne)(query, namespace=collection.full_name))


def overwrite(
    collection: AsyncCollection[Document], doc: Document, guard: Document, *, keep: Collection[str] = ()
) -> Write:
    """The write of :func:`overwrite_if` for :func:`write`: guarded by ``guard``, it matches nothing
    once the stored document no longer matches."""
    return update(collection, *_overwriting(doc, guard, keep))


def _overwriting(doc: Document, guard: Document, keep: Collection[str]) -> tuple[Document, Document]:
    """The filter and the update that write ``doc`` over its stored self while ``guard`` holds."""
    changes = {name: value for name, value in doc.items() if name != "_id" and name not in keep}
    return {"_id": doc["_id"], **guard}, {"$set": changes}


@dataclass
class _Queued:
    """The writes a unit of work queued in its transaction (:func:`write`), sent at its end."""

    writes: list[Write] = field(default_factory=list)
    # by position in ``writes``: what to raise when that update matched no document
    must_match: dict[int, Exception] = field(default_factory=dict)

    def add(self, writes: Sequence[Write], unmatched: Exception | None) -> None:
        for one in writes:
            if unmatched is not None and one.guardable:
                self.must_match[len(self.writes)] = unmatched
            self.writes.append(one)

    async def send(self, session: Session) -> None:
        if not self.writes:
            return
        writes, must_match = self.writes, self.must_match
        self.writes, self.must_match = [], {}
        if len(writes) > ONE_COMMAND_UP_TO and not must_match:
            await _by_collection(writes, session)
            return
        client = writes[0].collection.database.client
        try:
            result = await client.bulk_write(
                [w.model for w in writes], session=session, ordered=True, verbose_results=bool(must_match)
            )
        except ClientBulkWriteException as exc:
            raise _first_error(exc.error, exc.write_errors) from exc
        for index, unmatched in must_match.items():
            if result.update_results[index].matched_count == 0:
                raise unmatched


async def _by_collection(writes: Sequence[Write], session: Session) -> None:
    """The writes in order, one command for each run of writes to the same collection."""
    for _, same in groupby(writes, key=lambda one: one.collection.full_name):
        run = list(same)
        try:
            await run[0].collection.bulk_write([w.model for w in run], ordered=True, session=session)
        except BulkWriteError as exc:  # a taken key as the single write would say it; else as it is
            first = _first_error(None, exc.details.get("writeErrors"))
            if isinstance(first, DuplicateKeyError):
                raise first from exc
            raise


def _first_error(error: Any, write_errors: Any) -> Exception:
    """What a ``bulkWrite`` failed on, as the single write would have raised it: the command's own
    error (a write conflict, with its labels), else the first write's error."""
    if isinstance(error, Exception):
        return error
    for found in write_errors or []:
        details = cast(Document, found)  # the server's reply for that write (typed otherwise by PyMongo)
        message, code = str(details.get("errmsg", "write error")), int(details.get("code", 0))
        return (DuplicateKeyError if code == DUPLICATE_KEY else OperationFailure)(message, code, details)
    return OperationFailure("a bulk write failed without saying why")


# The queue of each transaction that :meth:`Mongo.transaction` runs, by its session.
_queues: WeakKeyDictionary[AsyncClientSession, _Queued] = WeakKeyDictionary()


async def write(writes: Sequence[Write], session: Session, *, unmatched: Exception | None = None) -> None:
    """Make ``writes`` (:func:`insert`, :func:`update`, ...), in order.

    In a transaction that :meth:`Mongo.transaction` runs they are queued, and go to the server with
    every other write the same unit of work queued when the work returns, just before the commit: in
    one ``bulkWrite`` command (one round trip instead of one a write, one command for the server to
    run), or for a long queue one command per run of writes to the same collection. What the work
    reads after queueing does not see them, so queue only writes that nothing later in the same work
    reads back or writes again directly. Outside a transaction (or in one opened some other way) they
    are made now.

    ``unmatched``: raised, aborting the transaction, when one of the updates matched no document
    (a guard on the version read no longer holds)."""
    queued = _queues.get(session) if session is not None else None
    if queued is not None:
        queued.add(writes, unmatched)
        return
    now = _Queued()
    now.add(writes, unmatched)
    await now.send(session)


def _queueing(work: Callable[[AsyncClientSession], Awaitable[T]]) -> Callable[[AsyncClientSession], Awaitable[T]]:
    """``work`` with the writes it queues (:func:`write`) sent when it returns."""

    async def unit(session: AsyncClientSession) -> T:
        queued = _queues.setdefault(session, _Queued())
        result = await work(session)
        await queued.send(session)
        return result

    return unit


def to_document(record: Any, key: str | None = "id", stored_as: Mapping[str, str] | None = None) -> Document:
    """A dataclass record as a stored document, every field under its own name or the one
    ``stored_as`` gives it.

    ``key`` names the field stored as ``_id`` (None: the caller sets ``_id``). Enums are stored by
    value, dates (not datetimes) as ISO text, tuples as arrays, nested dataclasses as sub-documents.
    """
    names = stored_as or {}
    doc: Document = {names.get(f.name, f.name): _encode(getattr(record, f.name)) for f in fields(record)}
    return {"_id": doc.pop(names.get(key, key)), **doc} if key is not None else doc


def from_document(
    kind: type[T], doc: Document, key: str | None = "id", stored_as: Mapping[str, str] | None = None
) -> T:
    """The inverse of :func:`to_document`, read by the record's type hints. A field the document
    lacks (it was written before the field existed) takes its default, or None where it may be
    None; a key the record does not know is ignored."""
    names = stored_as or {}
    hints = _type_hints(kind)
    values: dict[str, Any] = {}
    for f in fields(kind):  # type: ignore[arg-type]
        stored = names.get(f.name, f.name)
        if stored in doc:
            values[f.name] = _decode(hints[f.name], doc[stored])
        elif f.default is MISSING and f.default_factory is MISSING and type(None) in get_args(hints[f.name]):
            values[f.name] = None
    if key is not None:
        values[key] = doc["_id"]
    return kind(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(kind: type) -> dict[str, Any]:
    """A record type's resolved hints, worked out once per type (resolving them costs more than decoding)."""
    hints = _HINTS.get(kind)
    if hints is None:
        hints = _HINTS[kind] = get_type_hints(kind)
    return hints


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(hint: Any, value: Any) -> Any:
    origin = get_origin(hint)
    if value is None:
        return None
    if origin in (Union, types.UnionType):
        kinds = [a for a in get_args(hint) if a is not type(None)]
        return _decode(kinds[0], value) if len(kinds) == 1 else value
    if origin is tuple:
        return tuple(_decode(get_args(hint)[0], v) for v in value)
    if origin is None and isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(value)
        if hint is date:
            return date.fromisoformat(value)
        if is_dataclass(hint):
            return from_document(hint, value, key=None)
    return value


async def drop_index_if_present(collection: AsyncCollection[Document], name: str) -> None:
    """Drop index ``name`` of ``collection``; one that is not there is no error."""
    try:
        await collection.drop_index(name)
    except OperationFailure as exc:
        if exc.code != INDEX_NOT_FOUND:
            raise


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
        await drop_index_if_present(db[build["collection"]], build["index"])
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


# Documents deleted per statement by :func:`drop_gradually`.
DROP_BATCH = 200


async def delete_gradually(
    collection: AsyncCollection[Document],
    query: Mapping[str, Any],
    *,
    batch: int = DROP_BATCH,
    pause_ratio: float = 0.0,
) -> int:
    """Delete the documents matching ``query`` ``batch`` at a time; the number deleted.

    The local database holds its storage lock for the whole of one statement, so a statement that
    deletes thousands of documents makes every other read, write and commit on the server wait
    (decision 10). The keys are read once: the local database scans the whole collection for every
    find without an index, so a find per batch would make the work quadratic. After each batch it
    waits ``pause_ratio`` times as long as the batch took: work in the background passes 1, and never
    has more than half of the server's time. Safe to call again."""
    ids = [doc["_id"] async for doc in collection.find(dict(query), {"_id": 1})]
    deleted = 0
    loop = asyncio.get_running_loop()
    for start in range(0, len(ids), batch):
        began = loop.time()
        deleted += (await collection.delete_many({"_id": {"$in": ids[start : start + batch]}})).deleted_count
        if pause_ratio:
            await asyncio.sleep((loop.time() - began) * pause_ratio)
    return deleted


async def drop_gradually(
    db: AsyncDatabase[Document], name: str, *, batch: int = DROP_BATCH, pause_ratio: float = 0.0
) -> int:
    """Drop collection ``name`` after deleting its documents ``batch`` at a time; the number deleted.

    The local database holds its storage lock for the whole of a drop, so every other read, write
    and commit on the server waits while a large collection goes in one statement: 5.9 s for 20,000
    small documents (decision 10). Deleted a batch at a time (:func:`delete_gradually`), no other
    statement waits longer than one batch takes. On MongoDB it costs more round trips and nothing
    else. Safe to call again after a crash or on a collection that does not exist."""
    deleted = await delete_gradually(db[name], {}, batch=batch, pause_ratio=pause_ratio)
    await db.drop_collection(name)
    return deleted


async def drop_database_gradually(db: AsyncDatabase[Document], *, batch: int = DROP_BATCH) -> int:
    """Drop a whole database, each collection emptied a batch at a time first (:func:`drop_gradually`)."""
    deleted = 0
    for name in await db.list_collection_names():
        deleted += await drop_gradually(db, name, batch=batch)
    await db.client.drop_database(db.name)
    return deleted


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

        Inside :func:`holding` (a request whose answer is stored with its writes) the transaction is
        left open when ``work`` returns, and a later transaction of the same request joins it: the
        holder commits everything at once with its own last write (:meth:`HeldCommit.commit`).
        """
        held = _held_by(self)
        unit = _queueing(work)
        if held is not None and held.session is not None:
            return await _conflicts_answered(unit(held.session))
        try:
            async for attempt in at_most(attempts, _write_conflict, "transaction", first_wait_s=0.01, max_wait_s=1.0):
                with attempt:
                    if held is not None:
                        return await held.begin(unit)
                    async with self.client.start_session() as session, await session.start_transaction():
                        return await unit(session)
        except OperationFailure as exc:
            if _write_conflict(exc):
                raise Unavailable(TOO_MANY_WRITERS) from exc
            raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def after_commit(self, done: Callable[[], None]) -> None:
        """Call ``done`` once what the caller wrote is committed: now, or when a held commit is made."""
        held = _held_by(self)
        if held is not None:
            held.after.append(done)
        else:
            done()

    async def close(self) -> None:
        await self.client.close()


TOO_MANY_WRITERS = Said(
    "troppe modifiche contemporanee allo stesso dato; riprova tra un momento",
    "the record is being changed by many writers at once; retry in a moment",
)


async def _conflicts_answered(work: Awaitable[T]) -> T:
    """``work`` in a transaction that cannot be re-run alone: a write conflict is answered 503."""
    try:
        return await work
    except OperationFailure as exc:
        if _write_conflict(exc):
            raise Unavailable(TOO_MANY_WRITERS) from exc
        raise


class HeldCommit:
    """The writes of one request, kept in one open transaction until its answer is ready.

    :meth:`Mongo.transaction` begins the transaction and leaves it open; the holder then writes its
    own record of the answer in it and commits (:meth:`commit`), or throws everything away
    (:meth:`abandon`). So what a request created and what it answered are committed together or
    not at all (``shared.web.idempotency`` stores the answer to a keyed request this way).
    """

    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        # transactions are held only once the holder says so (a keyed request found its key free)
        self.active = False
        self.session: AsyncClientSession | None = None
        self.after: list[Callable[[], None]] = []

    async def begin(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        session = self.mongo.client.start_session()
        try:
            await session.start_transaction()
            result = await work(session)
        except BaseException:
            await _close(session)
            raise
        if self.session is not None:  # two transactions begun at once (gathered): one cannot hold both
            await _close(session)
            raise RuntimeError("a request whose commit is held ran two transactions at once")
        self.session = session
        return result

    async def commit(self, last: Callable[[AsyncClientSession], Awaitable[None]]) -> None:
        """Write ``last`` in the held transaction (a new one if the request wrote nothing) and commit
        it all; then call what waited for the commit."""
        if self.session is None:
            await self.mongo.transaction(last)
        else:
            session, self.session = self.session, None
            try:
                await _conflicts_answered(_queueing(last)(session))
                await session.commit_transaction()
            finally:
                await _close(session)
        for done in self.after:
            done()

    async def abandon(self) -> None:
        """Abort the held transaction: nothing the request wrote in it is kept."""
        session, self.session = self.session, None
        if session is not None:
            await _close(session)


async def _close(session: AsyncClientSession) -> None:
    """End a session, aborting its transaction if one is still open (best effort: the server aborts
    an abandoned transaction by itself at its lifetime limit)."""
    try:
        if session.in_transaction:
            await session.abort_transaction()
    except PyMongoError:
        pass
    finally:
        await session.end_session()


_held: ContextVar[HeldCommit | None] = ContextVar("held_commit", default=None)


def _held_by(mongo: Mongo) -> HeldCommit | None:
    held = _held.get()
    return held if held is not None and held.active and held.mongo is mongo else None


@contextmanager
def holding(held: HeldCommit) -> Iterator[HeldCommit]:
    """Within this block, the transactions ``held.mongo`` runs for the current task are held open
    (once ``held.active``)."""
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def _write_conflict(exc: Exception) -> bool:
    """A transaction that met a concurrent writer; re-running it reads the other's result."""
    return isinstance(exc, OperationFailure) and exc.has_error_label("TransientTransactionError")
