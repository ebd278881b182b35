"""The current geography: a :class:`Locator` of the districts and NILs, loaded once per version.

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

from districts.geography.domain import DistrictShape, Locator, NilShape, shape_of
from districts.geography.store import GeographyStore


class CurrentGeography:
    def __init__(self, store: GeographyStore, settle_s: float = 0.0) -> None:
        self.store = store
        self.settle_s = settle_s
        self._locator: Locator | None = None
        self._lock = asyncio.Lock()
        self._newest = -1
        self._newest_seen_at = 0.0

    def due(self) -> bool:
        """A newer geography has been seen and has settled: time to load it."""
        return self._newest > self.version and time.monotonic() - self._newest_seen_at >= self.settle_s

    def due_in(self) -> float | None:
        """Seconds until a newer geography seen has settled (0 if it has); None if none is waiting."""
        if self._newest <= self.version:
            return None
        return max(0.0, self._newest_seen_at + self.settle_s - time.monotonic())

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
        districts = [DistrictShape(d.code, shape_of(d.perimeter or {})) for d in await self.store.districts()]
        nils = [NilShape(n.id, n.population, shape_of(n.perimeter or {}), n.name) for n in await self.store.nils()]
        return Locator(version, districts, nils)
