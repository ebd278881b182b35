"""Districts, NILs and the record of geography changes: the only module that knows their collections.

Every change of a perimeter or a NIL inserts its own ``geography_changes`` document in the
transaction of the change, so concurrent changes never contend for a counter, and the geography
version (their count) only grows as they commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from districts.geography.domain import District, Nil
from shared.errors import NotFound
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, Session

Area = TypeVar("Area", District, Nil)

DISTRICTS, NILS, CHANGES = "districts", "nils", "geography_changes"


def _found(area: Area | None, missing: Said) -> Area:
    """The district or NIL read, or 404 saying which one is missing."""
    if area is None:
        raise NotFound(missing)
    return area


def _district(doc: Document) -> District:
    return District(doc["_id"], doc["name"], doc["version"], doc["updated_at"], doc.get("perimeter"))


def _district_doc(district: District) -> Document:
    return {
        "_id": district.code,
        "name": district.name,
        "perimeter": dict(district.perimeter or {}),
        "version": district.version,
        "updated_at": district.updated_at,
    }


def _nil(doc: Document) -> Nil:
    return Nil(
        doc["_id"], doc["name"], doc["population"], doc.get("area_km2"), doc.get("updated_at"), doc.get("perimeter")
    )


def _nil_doc(nil: Nil) -> Document:
    values = {k: v for k, v in vars(nil).items() if k != "id"}
    return {"_id": nil.id, **values, "perimeter": dict(nil.perimeter or {})}


class GeographyStore:
    indexes: IndexSpec = {DISTRICTS: [], NILS: [], CHANGES: []}

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def version(self, session: Session = None) -> int:
        """How many perimeter and NIL changes have committed."""
        return await self.db[CHANGES].count_documents({}, session=session)

    async def record_change(self, what: str, session: Session) -> None:
        await self.db[CHANGES].insert_one({"what": what, "at": datetime.now(UTC)}, session=session)

    async def district(self, code: str, session: Session = None) -> District | None:
        doc = await self.db[DISTRICTS].find_one({"_id": code}, session=session)
        return None if doc is None else _district(doc)

    async def require_district(self, code: str, session: Session = None) -> District:
        """The district, or 404 when there is none with that code."""
        return _found(
            await self.district(code, session), Said(f"non esiste il distretto {code!r}", f"no district {code!r}")
        )

    async def _areas(self, collection: str, limit: int, offset: int, with_perimeter: bool) -> list[Document]:
        """A page of districts or NILs in the order of their ids (``limit`` 0: all of them)."""
        projection = None if with_perimeter else {"perimeter": 0}
        cursor = self.db[collection].find({}, projection).sort("_id", ASCENDING).skip(offset).limit(limit)
        return [doc async for doc in cursor]

    async def districts(self, *, limit: int = 0, offset: int = 0, with_perimeter: bool = True) -> list[District]:
        return [_district(doc) for doc in await self._areas(DISTRICTS, limit, offset, with_perimeter)]

    async def count_districts(self) -> int:
        return await self.db[DISTRICTS].count_documents({})

    async def save_district(self, district: District, *, expected_version: int | None, session: Session) -> bool:
        """Insert (expected_version None) or replace the version expected; False if it moved on."""
        doc = _district_doc(district)
        if expected_version is None:
            await self.db[DISTRICTS].insert_one(doc, session=session)
            return True
        result = await self.db[DISTRICTS].replace_one(
            {"_id": district.code, "version": expected_version}, doc, session=session
        )
        return result.matched_count == 1

    async def nil(self, nil_id: int, session: Session = None) -> Nil | None:
        doc = await self.db[NILS].find_one({"_id": nil_id}, session=session)
        return None if doc is None else _nil(doc)

    async def require_nil(self, nil_id: int, session: Session = None) -> Nil:
        """The NIL, or 404 when there is none with that id."""
        return _found(await self.nil(nil_id, session), Said(f"non esiste il NIL {nil_id}", f"no NIL {nil_id}"))

    async def nils(self, *, limit: int = 0, offset: int = 0, with_perimeter: bool = True) -> list[Nil]:
        return [_nil(doc) for doc in await self._areas(NILS, limit, offset, with_perimeter)]

    async def count_nils(self) -> int:
        return await self.db[NILS].count_documents({})

    async def save_nil(self, nil: Nil, session: Session) -> None:
        await self.db[NILS].replace_one({"_id": nil.id}, _nil_doc(nil), upsert=True, session=session)
