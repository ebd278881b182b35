"""The city's current geography (district perimeters and NILs), loaded once per version.

Every change of a perimeter or a NIL is recorded in the same transaction, and the geography
version is the number of changes recorded, so a reader that saw version ``v`` finds at least that
geography here. A
new version is loaded once it has been quiet for ``settle_s``: importing 88 NILs one by one then
costs one reload, not 88. Until then callers keep the previous geography, and whatever they place
with it is re-placed by the refresher's sweep when the new one is loaded.
"""

from __future__ import annotations

import asyncio
import time

from districts.geography import DistrictShape, Locator, NilShape, parse_perimeter
from districts.store import DistrictStore


class Atlas:
    def __init__(self, store: DistrictStore, settle_s: float = 0.0) -> None:
        self.store = store
        self.settle_s = settle_s
        self._locator: Locator | None = None
        self._lock = asyncio.Lock()
        self._newest = -1
        self._newest_seen_at = 0.0

    def due(self) -> bool:
        """A newer geography has been seen and has settled: time to load it."""
        return self._newest > self.version and time.monotonic() - self._newest_seen_at >= self.settle_s

    @property
    def version(self) -> int:
        return self._locator.version if self._locator else -1

    async def locator(self, version: int) -> Locator:
        if version > self._newest:
            self._newest, self._newest_seen_at = version, time.monotonic()
        current = self._locator
        if current is not None and (current.version >= version or not self.due()):
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
