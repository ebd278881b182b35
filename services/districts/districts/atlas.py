"""The city's current geography (district perimeters and NILs), loaded once per version."""

from __future__ import annotations

import asyncio

from districts.geography import DistrictShape, Locator, NilShape, parse_perimeter
from districts.store import DistrictStore


class Atlas:
    """Gives a :class:`Locator` at least as new as the geography version asked for.

    Every change of a perimeter or a NIL bumps the version in the projection state in the same
    transaction, so a reader that saw version ``v`` there finds at least that geography here.
    """

    def __init__(self, store: DistrictStore) -> None:
        self.store = store
        self._locator: Locator | None = None
        self._lock = asyncio.Lock()

    async def locator(self, version: int) -> Locator:
        current = self._locator
        if current is not None and current.version >= version:
            return current
        async with self._lock:
            current = self._locator
            if current is None or current.version < version:
                current = self._locator = await self._load(version)
            return current

    async def _load(self, version: int) -> Locator:
        districts = [
            DistrictShape(doc["_id"], parse_perimeter(doc["perimeter"]["type"], doc["perimeter"]["coordinates"]))
            for doc in await self.store.districts()
        ]
        nils = [
            NilShape(
                doc["_id"],
                int(doc.get("population") or 0),
                parse_perimeter(doc["perimeter"]["type"], doc["perimeter"]["coordinates"]),
            )
            for doc in await self.store.nils()
        ]
        return Locator(version, districts, nils)
