"""MongoDB repository of the districts service: the only module that knows collections and indexes.

Definitions (district perimeters, NILs, thresholds), alerts, monitors and the time series are kept
once. The projections (entities and area KPIs) live in numbered generations, ``entities_g<n>`` and
``areas_g<n>``; ``area_marks`` says which areas of a generation wait for new KPIs. A rebuild fills a fresh generation while the active one keeps serving, and the switch
is one update of the ``projection_state`` document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from districts.domain import Entity, EntityType, FieldValue, Movement
from districts.geography import Placement
from shared.mongo import Document, IndexSpec

Session = AsyncClientSession | None

DISTRICTS, NILS, THRESHOLDS = "districts", "nils", "thresholds"
STATE, MONITORS, ALERTS, TIMESERIES, JOBS = "projection_state", "monitors", "alerts", "kpi_timeseries", "rebuild_jobs"
MARKS, GEOGRAPHY_CHANGES = "area_marks", "geography_changes"
STATE_ID = "projection"
RUNNING_JOB_STATES = ("running", "switching")


@dataclass(frozen=True)
class ProjectionState:
    active: int = 1
    building: int | None = None
    geography: int = 0

    @property
    def generations(self) -> tuple[int, ...]:
        """Where projected events go: the active generation and the one being rebuilt."""
        return (self.active,) if self.building is None else (self.active, self.building)


@dataclass(frozen=True)
class StoredEntity:
    """An entity with its revision (bumped by every write) and the geography it was placed on."""

    entity: Entity
    rev: int
    geography: int


@dataclass(frozen=True)
class Mark:
    """Areas whose KPIs may have moved, and parents (markets, shops) whose areas may have."""

    id: ObjectId
    areas: frozenset[str]
    parents: frozenset[str]


def entities_collection(generation: int) -> str:
    return f"entities_g{generation}"


def areas_collection(generation: int) -> str:
    return f"areas_g{generation}"


def generation_indexes(generation: int) -> IndexSpec:
    return {
        entities_collection(generation): [
            IndexModel([("type", ASCENDING), ("districts", ASCENDING)], name="by_district"),
            IndexModel([("type", ASCENDING), ("nil", ASCENDING)], name="by_nil"),
            IndexModel([("fields.market_id", ASCENDING)], name="by_market", sparse=True),
            IndexModel([("fields.shop_id", ASCENDING)], name="by_shop", sparse=True),
            IndexModel([("geo", ASCENDING)], name="by_geography", sparse=True),
        ],
    }


INDEXES: IndexSpec = {
    ALERTS: [
        IndexModel(
            [("district", ASCENDING), ("key", ASCENDING)],
            name="one_open_alert_per_condition",
            unique=True,
            partialFilterExpression={"state": "open"},
        ),
        IndexModel([("district", ASCENDING), ("raised_at", DESCENDING)], name="by_district"),
        IndexModel([("state", ASCENDING)], name="by_state"),
    ],
    TIMESERIES: [IndexModel([("district", ASCENDING), ("hour", ASCENDING)], name="by_district_hour")],
    JOBS: [IndexModel([("started_at", DESCENDING)], name="recent")],
    MARKS: [IndexModel([("generation", ASCENDING), ("_id", ASCENDING)], name="by_generation")],
}


def _entity_doc(stored: Entity, rev: int, geography: int) -> Document:
    """Only businesses and markets carry ``geo``: the geography their placement was decided on."""
    doc = {
        "_id": stored.id,
        "type": stored.type.value,
        "fields": stored.fields,
        "versions": stored.versions,
        "movements": [{"key": m.key, "at": m.at, "to": m.to} for m in stored.movements.values()],
        "districts": list(stored.districts),
        "nil": stored.nil,
        "rev": rev,
    }
    if stored.is_placeable:
        doc["geo"] = geography
    return doc


def _entity(doc: Document) -> StoredEntity:
    fields: dict[str, FieldValue] = doc.get("fields", {})
    movements = {m["key"]: Movement(m["key"], m["at"], m["to"]) for m in doc.get("movements", [])}
    entity = Entity(
        id=doc["_id"],
        type=EntityType(doc["type"]),
        fields=fields,
        versions=doc.get("versions", {}),
        movements=movements,
        districts=tuple(doc.get("districts", [])),
        nil=doc.get("nil"),
    )
    return StoredEntity(entity, doc.get("rev", 0), doc.get("geo", 0))


class DistrictStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    indexes = INDEXES

    # ------------------------------------------------------------ projection state and generations

    async def state(self, session: Session = None) -> ProjectionState:
        """The generations, and the geography version: how many perimeter and NIL changes committed.

        Each change inserts its own document (in the transaction of the change), so concurrent
        changes never contend for a counter, and the count only grows as they commit.
        """
        doc = await self.db[STATE].find_one({"_id": STATE_ID}, session=session) or {}
        geography = await self.db[GEOGRAPHY_CHANGES].count_documents({}, session=session)
        return ProjectionState(doc.get("active", 1), doc.get("building"), geography)

    def _state_defaults(self) -> Document:
        return {"active": 1, "building": None, "generations": 1}

    async def record_geography_change(self, what: str, session: Session) -> None:
        await self.db[GEOGRAPHY_CHANGES].insert_one({"what": what, "at": datetime.now(UTC)}, session=session)

    async def claim_generation(self) -> int | None:
        """Reserve a never-used generation and mark it as being built; None if a build is running."""
        await self.db[STATE].update_one({"_id": STATE_ID}, {"$setOnInsert": self._state_defaults()}, upsert=True)
        following = {"$add": ["$generations", 1]}
        doc = await self.db[STATE].find_one_and_update(
            {"_id": STATE_ID, "building": None},
            [{"$set": {"generations": following, "building": following}}],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else int(doc["building"])

    async def switch_to(self, generation: int) -> bool:
        result = await self.db[STATE].update_one(
            {"_id": STATE_ID, "building": generation}, {"$set": {"active": generation, "building": None}}
        )
        return result.modified_count == 1

    async def abandon(self, generation: int) -> None:
        await self.db[STATE].update_one({"_id": STATE_ID, "building": generation}, {"$set": {"building": None}})

    async def generations_on_disk(self) -> set[int]:
        names = await self.db.list_collection_names()
        found = set()
        for name in names:
            prefix, _, number = name.rpartition("_g")
            if prefix in ("entities", "areas") and number.isdigit():
                found.add(int(number))
        return found

    async def drop_generation(self, generation: int) -> None:
        await self.db.drop_collection(entities_collection(generation))
        await self.db.drop_collection(areas_collection(generation))

    async def ensure_generation(self, generation: int) -> None:
        for name, models in generation_indexes(generation).items():
            await self.db[name].create_indexes(list(models))

    # ------------------------------------------------------------ definitions

    async def district(self, code: str, session: Session = None) -> Document | None:
        return await self.db[DISTRICTS].find_one({"_id": code}, session=session)

    async def districts(self, *, limit: int = 0, offset: int = 0, with_perimeter: bool = True) -> list[Document]:
        projection = None if with_perimeter else {"perimeter": 0}
        cursor = self.db[DISTRICTS].find({}, projection).sort("_id", ASCENDING).skip(offset).limit(limit)
        return await cursor.to_list()

    async def count_districts(self) -> int:
        return await self.db[DISTRICTS].count_documents({})

    async def save_district(self, doc: Document, *, expected_version: int | None, session: Session) -> bool:
        """Insert (expected_version None) or replace the version expected; False if it moved on."""
        if expected_version is None:
            await self.db[DISTRICTS].insert_one(doc, session=session)
            return True
        result = await self.db[DISTRICTS].replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session
        )
        return result.matched_count == 1

    async def nil(self, nil_id: int, session: Session = None) -> Document | None:
        return await self.db[NILS].find_one({"_id": nil_id}, session=session)

    async def nils(self, *, limit: int = 0, offset: int = 0, with_perimeter: bool = True) -> list[Document]:
        projection = None if with_perimeter else {"perimeter": 0}
        cursor = self.db[NILS].find({}, projection).sort("_id", ASCENDING).skip(offset).limit(limit)
        return await cursor.to_list()

    async def count_nils(self) -> int:
        return await self.db[NILS].count_documents({})

    async def save_nil(self, doc: Document, session: Session) -> None:
        await self.db[NILS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    async def thresholds(self, code: str, session: Session = None) -> Document | None:
        doc = await self.db[THRESHOLDS].find_one({"_id": code}, {"_id": 0}, session=session)
        return doc

    async def thresholds_of(self, codes: Sequence[str], session: Session = None) -> dict[str, Document]:
        cursor = self.db[THRESHOLDS].find({"_id": {"$in": list(codes)}}, session=session)
        return {doc.pop("_id"): doc async for doc in cursor}

    async def save_thresholds(self, code: str, values: Document) -> None:
        await self.db[THRESHOLDS].replace_one({"_id": code}, {"_id": code, **values}, upsert=True)

    # ------------------------------------------------------------ entities (one generation)

    async def entities(self, generation: int, ids: Iterable[str], session: Session) -> dict[str, StoredEntity]:
        cursor = self.db[entities_collection(generation)].find({"_id": {"$in": sorted(ids)}}, session=session)
        return {doc["_id"]: _entity(doc) async for doc in cursor}

    async def save_entities(self, generation: int, changed: Sequence[StoredEntity], session: Session) -> None:
        """Store entities as given (revision and geography included), all at once."""
        if changed:
            operations = [
                ReplaceOne({"_id": s.entity.id}, _entity_doc(s.entity, s.rev, s.geography), upsert=True)
                for s in changed
            ]
            await self.db[entities_collection(generation)].bulk_write(operations, ordered=False, session=session)

    async def add_mark(self, generation: int, areas: Iterable[str], parents: Iterable[str], session: Session) -> None:
        doc = {"generation": generation, "areas": sorted(areas), "parents": sorted(parents)}
        if doc["areas"] or doc["parents"]:
            await self.db[MARKS].insert_one(doc, session=session)

    async def marks(self, generation: int, limit: int) -> list[Mark]:
        cursor = self.db[MARKS].find({"generation": generation}).sort("_id", ASCENDING).limit(limit)
        return [Mark(d["_id"], frozenset(d["areas"]), frozenset(d["parents"])) async for d in cursor]

    async def drop_marks(self, generation: int, done: Sequence[Mark]) -> None:
        """Forget the marks of what was refreshed, and any left by a generation no longer active."""
        await self.db[MARKS].delete_many(
            {"$or": [{"_id": {"$in": [m.id for m in done]}}, {"generation": {"$ne": generation}}]}
        )

    async def misplaced(self, generation: int, geography: int, limit: int) -> list[StoredEntity]:
        """Placed entities whose membership was decided on an older geography."""
        query = {"geo": {"$lt": geography}}
        cursor = self.db[entities_collection(generation)].find(query).limit(limit)
        return [_entity(doc) async for doc in cursor]

    async def update_placements(
        self, generation: int, geography: int, placed: Sequence[tuple[StoredEntity, Placement]]
    ) -> None:
        """Store placements decided on ``geography``, each guarded by the revision it was computed from."""
        operations = [
            UpdateOne(
                {"_id": s.entity.id, "rev": s.rev},
                {"$set": {"districts": list(p.districts), "nil": p.nil, "geo": geography}, "$inc": {"rev": 1}},
            )
            for s, p in placed
        ]
        if operations:
            await self.db[entities_collection(generation)].bulk_write(operations, ordered=False)

    async def placed(
        self, generation: int, codes: Sequence[str] | None, nil_ids: Sequence[int] | None, session: Session
    ) -> list[Entity]:
        """Businesses and markets in the given districts or NILs (both None: everywhere).

        One equality query per type and criterion (a ``$or`` or a ``$in`` on ``type`` would not use
        the indexes everywhere), merged by id.
        """
        queries: list[Document] = []
        for kind in (EntityType.SHOP.value, EntityType.MARKET.value):
            if codes is None and nil_ids is None:
                queries.append({"type": kind})
            if codes:
                queries.append({"type": kind, "districts": {"$in": list(codes)}})
            if nil_ids:
                queries.append({"type": kind, "nil": {"$in": list(nil_ids)}})
        found: dict[str, Entity] = {}
        for query in queries:
            cursor = self.db[entities_collection(generation)].find(query, {"versions": 0}, session=session)
            async for doc in cursor:
                found.setdefault(doc["_id"], _entity(doc).entity)
        return list(found.values())

    async def children(
        self, generation: int, parent_field: str, parents: Iterable[str], session: Session
    ) -> list[Entity]:
        """Stalls (``market_id``) or services (``shop_id``) of the given parents."""
        query = {f"fields.{parent_field}": {"$in": sorted(parents)}}
        cursor = self.db[entities_collection(generation)].find(query, {"versions": 0}, session=session)
        return [_entity(doc).entity async for doc in cursor]

    async def by_ids(self, generation: int, ids: Iterable[str]) -> list[Entity]:
        cursor = self.db[entities_collection(generation)].find({"_id": {"$in": sorted(ids)}}, {"versions": 0})
        return [_entity(doc).entity async for doc in cursor]

    async def count_entities(self, generation: int) -> dict[str, int]:
        pipeline = [{"$group": {"_id": "$type", "n": {"$sum": 1}}}]
        cursor = await self.db[entities_collection(generation)].aggregate(pipeline)
        return {doc["_id"]: doc["n"] async for doc in cursor}

    # ------------------------------------------------------------ area KPIs (one generation)

    async def areas(self, generation: int, keys: Iterable[str] | None, session: Session = None) -> dict[str, Document]:
        query: Document = {} if keys is None else {"_id": {"$in": sorted(keys)}}
        cursor = self.db[areas_collection(generation)].find(query, session=session)
        return {doc["_id"]: doc async for doc in cursor}

    async def save_areas(self, generation: int, docs: Sequence[Document], session: Session) -> None:
        if docs:
            operations = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs]
            await self.db[areas_collection(generation)].bulk_write(operations, ordered=False, session=session)

    # ------------------------------------------------------------ monitors, alerts, time series

    async def monitors(self, codes: Iterable[str], session: Session) -> dict[str, Document]:
        cursor = self.db[MONITORS].find({"_id": {"$in": sorted(codes)}}, session=session)
        return {doc["_id"]: doc async for doc in cursor}

    async def save_monitor(self, code: str, peaks: dict[str, float], session: Session) -> None:
        await self.db[MONITORS].replace_one({"_id": code}, {"_id": code, "peaks": peaks}, upsert=True, session=session)

    async def open_alerts(self, codes: Iterable[str] | None, session: Session = None) -> list[Document]:
        query: Document = {"state": "open"}
        if codes is not None:
            query["district"] = {"$in": sorted(codes)}
        cursor = self.db[ALERTS].find(query, session=session).sort("raised_at", DESCENDING)
        return await cursor.to_list()

    async def insert_alert(self, doc: Document, session: Session) -> None:
        await self.db[ALERTS].insert_one(doc, session=session)

    async def resolve_alert(self, alert_id: str, at: datetime, entry: Document, session: Session) -> None:
        await self.db[ALERTS].update_one(
            {"_id": alert_id, "state": "open"},
            {"$set": {"state": "resolved", "resolved_at": at}, "$push": {"history": entry}},
            session=session,
        )

    async def alerts(self, code: str, state: str | None, limit: int, offset: int) -> tuple[list[Document], int]:
        query: Document = {"district": code}
        if state is not None:
            query["state"] = state
        total = await self.db[ALERTS].count_documents(query)
        cursor = self.db[ALERTS].find(query).sort("raised_at", DESCENDING).skip(offset).limit(limit)
        return await cursor.to_list(), total

    async def append_samples(
        self, samples: Sequence[tuple[str, datetime, datetime, Document]], session: Session
    ) -> None:
        """Add KPI samples to hourly buckets: (district, hour, at, values)."""
        if not samples:
            return
        operations = [
            UpdateOne(
                {"_id": f"{code}|{hour:%Y-%m-%dT%H}"},
                {"$push": {"samples": {"at": at, **values}}, "$setOnInsert": {"district": code, "hour": hour}},
                upsert=True,
            )
            for code, hour, at, values in samples
        ]
        await self.db[TIMESERIES].bulk_write(operations, ordered=True, session=session)

    async def buckets(self, code: str, first_hour: datetime, last: datetime) -> list[Document]:
        query = {"district": code, "hour": {"$gte": first_hour, "$lte": last}}
        return await self.db[TIMESERIES].find(query).sort("hour", ASCENDING).to_list()

    # ------------------------------------------------------------ rebuild jobs

    async def insert_job(self, doc: Document) -> None:
        await self.db[JOBS].insert_one(doc)

    async def job(self, job_id: str) -> Document | None:
        return await self.db[JOBS].find_one({"_id": job_id})

    async def job_building(self, generation: int) -> Document | None:
        return await self.db[JOBS].find_one({"generation": generation, "state": {"$in": list(RUNNING_JOB_STATES)}})

    async def update_job(self, job_id: str, changes: dict[str, Any]) -> None:
        await self.db[JOBS].update_one({"_id": job_id}, {"$set": changes})
