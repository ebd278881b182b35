"""The projections' collections: entities and area figures by generation, marks, and the KPI time series.

The projections (entities, area tallies and area figures) live in numbered generations,
``entities_g<n>``, ``tallies_g<n>`` and ``areas_g<n>``; ``area_marks`` says which areas of a
generation wait for new KPIs (those a re-placement sweep moved). The consumers write entities,
tallies and the figures of the areas they moved; the refresher writes figures for its snapshot,
recount and day change (and tallies when the recount replaces them), and the two conflict only
when they write the same area at once. A rebuild fills a
fresh generation while the active one keeps serving, and the switch is one update of the
``projection_state`` document. The time series is history and is kept once, outside generations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from districts.geography.domain import Placement
from districts.projection.domain import Entity, EntityType, FieldValue, Kpis, Movement, StoredEntity, area_of
from districts.projection.tally import Move, Tally
from districts.projection.vitality import AreaFigures, StoredArea, Vitality
from shared.mongo import Document, IndexSpec, Session, drop_gradually, ensure_schema, insert, replace, update, write

STATE, TIMESERIES, MARKS = "projection_state", "kpi_timeseries", "area_marks"
STATE_ID = "projection"


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


def tallies_collection(generation: int) -> str:
    return f"tallies_g{generation}"


def generation_indexes(generation: int) -> IndexSpec:
    return {
        areas_collection(generation): [],
        tallies_collection(generation): [],
        entities_collection(generation): [
            IndexModel([("type", ASCENDING), ("districts", ASCENDING)], name="by_district"),
            IndexModel([("type", ASCENDING), ("nil", ASCENDING)], name="by_nil"),
            IndexModel([("fields.market_id", ASCENDING)], name="by_market", sparse=True),
            IndexModel([("fields.shop_id", ASCENDING)], name="by_shop", sparse=True),
            IndexModel([("geo", ASCENDING)], name="by_geography", sparse=True),
        ],
    }


INDEXES: IndexSpec = {
    STATE: [],
    TIMESERIES: [
        IndexModel([("district", ASCENDING), ("hour", ASCENDING)], name="by_district_hour"),
        IndexModel(
            [("nil", ASCENDING), ("hour", ASCENDING)],
            name="by_nil_hour",
            partialFilterExpression={"nil": {"$exists": True}},
        ),
    ],
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


def _area_doc(key: str, area: StoredArea) -> Document:
    figures = area.figures
    return {
        "_id": key,
        "kpis": figures.kpis.values(),
        "vitality": asdict(figures.vitality),
        "sampled_at": area.sampled_at,
        "sample_due": area.sample_due,
    }


def _area(doc: Document) -> StoredArea:
    figures = AreaFigures(Kpis.of(doc["kpis"]), Vitality.of(doc["vitality"]))
    return StoredArea(figures, doc.get("sampled_at"), doc.get("sample_due", False))


def _tally_doc(key: str, tally: Tally) -> Document:
    """Counts and movements as lists: their names (a service type, a business id) may hold any character."""
    return {
        "_id": key,
        "counts": sorted([name, n] for name, n in tally.counts.items()),
        "moves": sorted([move_key, m.at, m.to, m.historic] for move_key, m in tally.moves.items()),
    }


def _tally(doc: Document) -> Tally:
    counts = Counter({name: n for name, n in doc.get("counts", [])})
    return Tally(counts, {key: Move(at, to, historic) for key, at, to, historic in doc.get("moves", [])})


class ProjectionStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    indexes = INDEXES

    # ------------------------------------------------------------ generations

    async def generations(self, session: Session = None) -> tuple[int, int | None]:
        """The active generation and the one being built, if any."""
        doc = await self.db[STATE].find_one({"_id": STATE_ID}, session=session) or {}
        return doc.get("active", 1), doc.get("building")

    def _state_defaults(self) -> Document:
        return {"active": 1, "building": None, "generations": 1}

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
            if prefix in ("entities", "areas", "tallies") and number.isdigit():
                found.add(int(number))
        return found

    async def drop_generation(self, generation: int, *, pause_ratio: float = 0.0) -> int:
        """A batch at a time (:func:`drop_gradually`, ``pause_ratio`` as there): the live generation's
        readers and writers never wait for a whole generation to go. How many documents went."""
        deleted = 0
        for name in (entities_collection(generation), areas_collection(generation), tallies_collection(generation)):
            deleted += await drop_gradually(self.db, name, pause_ratio=pause_ratio)
        return deleted

    async def ensure_generation(self, generation: int) -> None:
        await ensure_schema(self.db, generation_indexes(generation))

    async def live_schema(self) -> IndexSpec:
        """The collections of the generations in use (the active one, and one being rebuilt)."""
        active, building = await self.generations()
        schema: IndexSpec = {}
        for generation in (active,) if building is None else (active, building):
            schema.update(generation_indexes(generation))
        return schema

    # ------------------------------------------------------------ entities (one generation)

    async def entities(self, generation: int, ids: Iterable[str], session: Session) -> dict[str, StoredEntity]:
        cursor = self.db[entities_collection(generation)].find({"_id": {"$in": sorted(ids)}}, session=session)
        return {doc["_id"]: _entity(doc) async for doc in cursor}

    async def save_entities(self, generation: int, changed: Sequence[StoredEntity], session: Session) -> None:
        """Store entities as given (revision and geography included), all at once."""
        if changed:
            entities = self.db[entities_collection(generation)]
            saved = [
                replace(entities, {"_id": s.entity.id}, _entity_doc(s.entity, s.rev, s.geography), upsert=True)
                for s in changed
            ]
            await write(saved, session)

    async def add_mark(self, generation: int, areas: Iterable[str], parents: Iterable[str], session: Session) -> None:
        doc = {"generation": generation, "areas": sorted(areas), "parents": sorted(parents)}
        if doc["areas"] or doc["parents"]:
            await write([insert(self.db[MARKS], doc)], session)

    async def marks(self, generation: int, limit: int) -> list[Mark]:
        cursor = self.db[MARKS].find({"generation": generation}).sort("_id", ASCENDING).limit(limit)
        return [Mark(d["_id"], frozenset(d["areas"]), frozenset(d["parents"])) async for d in cursor]

    async def drop_marks(self, generation: int, done: Sequence[Mark]) -> None:
        """Forget the marks of what was refreshed, and any left by a generation no longer active."""
        await self.db[MARKS].delete_many(
            {"$or": [{"_id": {"$in": [m.id for m in done]}}, {"generation": {"$ne": generation}}]}
        )

    async def misplaced(
        self, generation: int, geography: int, limit: int, session: Session = None
    ) -> list[StoredEntity]:
        """Placed entities whose membership was decided on an older geography."""
        query = {"geo": {"$lt": geography}}
        cursor = self.db[entities_collection(generation)].find(query, session=session).limit(limit)
        return [_entity(doc) async for doc in cursor]

    async def update_placements(
        self, generation: int, geography: int, placed: Sequence[tuple[StoredEntity, Placement]], session: Session = None
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
            await self.db[entities_collection(generation)].bulk_write(operations, ordered=False, session=session)

    async def touch(self, generation: int, ids: Iterable[str], session: Session) -> None:
        """Bump the revision of entities a change of the tallies depended on (the market of a changed
        stall), so a concurrent change of one of them conflicts instead of both committing."""
        ids = sorted(ids)
        if ids:
            entities = self.db[entities_collection(generation)]
            await write([update(entities, {"_id": {"$in": ids}}, {"$inc": {"rev": 1}}, many=True)], session)

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

    async def active_shops_by_category(
        self, generation: int, codes: Sequence[str] | None = None, nil_ids: Sequence[int] | None = None
    ) -> dict[str | None, int]:
        """How many active shops and kiosks each category has, in the given districts or NILs (neither:
        the whole city), counted by the database; ``None`` for shops projected before categories."""
        match: Document = {"type": EntityType.SHOP.value, "fields.status": "active"}
        if codes is not None:
            match["districts"] = {"$in": list(codes)}
        if nil_ids is not None:
            match["nil"] = {"$in": list(nil_ids)}
        pipeline: list[Document] = [{"$match": match}, {"$group": {"_id": "$fields.category", "count": {"$sum": 1}}}]
        cursor = await self.db[entities_collection(generation)].aggregate(pipeline)
        return {doc["_id"]: int(doc["count"]) async for doc in cursor}

    async def children(
        self, generation: int, parent_field: str, parents: Iterable[str], session: Session
    ) -> list[Entity]:
        """Stalls (``market_id``) or services (``shop_id``) of the given parents."""
        query = {f"fields.{parent_field}": {"$in": sorted(parents)}}
        cursor = self.db[entities_collection(generation)].find(query, {"versions": 0}, session=session)
        return [_entity(doc).entity async for doc in cursor]

    async def by_ids(self, generation: int, ids: Iterable[str], session: Session = None) -> list[Entity]:
        query = {"_id": {"$in": sorted(ids)}}
        cursor = self.db[entities_collection(generation)].find(query, {"versions": 0}, session=session)
        return [_entity(doc).entity async for doc in cursor]

    async def count_entities(self, generation: int) -> dict[str, int]:
        pipeline = [{"$group": {"_id": "$type", "n": {"$sum": 1}}}]
        cursor = await self.db[entities_collection(generation)].aggregate(pipeline)
        return {doc["_id"]: doc["n"] async for doc in cursor}

    # ------------------------------------------------------------ area KPIs (one generation)

    async def areas(
        self, generation: int, keys: Iterable[str] | None, session: Session = None
    ) -> dict[str, AreaFigures]:
        return {key: area.figures for key, area in (await self.stored_areas(generation, keys, session)).items()}

    async def stored_areas(
        self, generation: int, keys: Iterable[str] | None, session: Session = None
    ) -> dict[str, StoredArea]:
        query: Document = {} if keys is None else {"_id": {"$in": sorted(keys)}}
        cursor = self.db[areas_collection(generation)].find(query, session=session)
        return {doc["_id"]: _area(doc) async for doc in cursor}

    async def unsampled_areas(self, generation: int, session: Session = None) -> dict[str, StoredArea]:
        """The areas whose last move waits for its sample (a small collection: one document an area)."""
        cursor = self.db[areas_collection(generation)].find({"sample_due": True}, session=session)
        return {doc["_id"]: _area(doc) async for doc in cursor}

    async def save_areas(self, generation: int, areas: Mapping[str, StoredArea], session: Session) -> None:
        if areas:
            stored = self.db[areas_collection(generation)]
            await write([replace(stored, {"_id": k}, _area_doc(k, a), upsert=True) for k, a in areas.items()], session)

    # ------------------------------------------------------------ area tallies (one generation)

    async def tallies(self, generation: int, keys: Iterable[str], session: Session) -> dict[str, Tally]:
        """The tallies of the given areas (an area never counted has none)."""
        cursor = self.db[tallies_collection(generation)].find({"_id": {"$in": sorted(keys)}}, session=session)
        return {doc["_id"]: _tally(doc) async for doc in cursor}

    async def save_tallies(self, generation: int, tallies: Mapping[str, Tally], session: Session) -> None:
        if tallies:
            kept = self.db[tallies_collection(generation)]
            await write([replace(kept, {"_id": k}, _tally_doc(k, t), upsert=True) for k, t in tallies.items()], session)

    # ------------------------------------------------------------ time series

    async def append_samples(
        self, samples: Sequence[tuple[str, datetime, datetime, Document]], session: Session
    ) -> None:
        """Add KPI samples to hourly buckets: (area key, hour, at, values).

        A district's bucket is ``{_id: "<code>|<hour>", district, hour, samples}``, a NIL's
        ``{_id: "nil:<id>|<hour>", nil, hour, samples}``.
        """
        if not samples:
            return
        pushes = [
            update(
                self.db[TIMESERIES],
                {"_id": f"{_bucket_prefix(key)}|{hour:%Y-%m-%dT%H}"},
                {"$push": {"samples": {"at": at, **values}}, "$setOnInsert": {**_series_of(key), "hour": hour}},
                upsert=True,
            )
            for key, hour, at, values in samples
        ]
        await write(pushes, session)

    async def samples(
        self, key: str, metric: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, float | None]]:
        """The samples of one KPI of an area (district or NIL key) taken from ``start`` to ``end``, oldest first."""
        return (await self.samples_of(key, [metric], start, end))[metric]

    async def samples_of(
        self, key: str, metrics: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, float | None]]]:
        """The samples of several KPIs of an area from ``start`` to ``end`` in one read of its buckets,
        which bring back only those KPIs."""
        first_hour = start.replace(minute=0, second=0, microsecond=0)
        query = {**_series_of(key), "hour": {"$gte": first_hour, "$lte": end}}
        wanted = {"samples.at": 1, **{f"samples.{metric}": 1 for metric in metrics}}
        found: dict[str, list[tuple[datetime, float | None]]] = {metric: [] for metric in metrics}
        async for bucket in self.db[TIMESERIES].find(query, wanted).sort("hour", ASCENDING):
            for sample in bucket["samples"]:
                if start <= sample["at"] <= end:
                    for metric in metrics:
                        found[metric].append((sample["at"], sample.get(metric)))
        return found


def _series_of(key: str) -> Document:
    """The fields naming an area's time series: ``{district: code}`` or ``{nil: id}``."""
    code, nil_id = area_of(key)
    return {"district": code} if code is not None else {"nil": nil_id}


def _bucket_prefix(key: str) -> str:
    code, _ = area_of(key)
    return code if code is not None else key
