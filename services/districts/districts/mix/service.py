"""The product mix of a district or a NIL, read from the active projection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from districts.geography.current import CurrentGeography
from districts.geography.store import GeographyStore
from districts.mix.domain import Baseline, Mix, area_baseline, city_baseline, product_mix
from districts.mix.store import BaselineStore
from districts.projection.domain import EntityType, district_key, nil_key
from districts.projection.service import KpiQueries, ProjectionStates
from districts.projection.store import ProjectionStore
from shared.categories import Category

VACANT = "vacant"


def _categories(counted: dict[str | None, int]) -> Counter[str]:
    """Counts by category (shops projected before categories were kept count as other until the
    projections are rebuilt)."""
    found: Counter[str] = Counter()
    for category, count in counted.items():
        found[category or Category.OTHER.value] += count
    return found


@dataclass(frozen=True)
class MixService:
    store: ProjectionStore
    states: ProjectionStates
    geography: GeographyStore
    figures: KpiQueries
    baselines: BaselineStore
    current: CurrentGeography

    async def put_baseline(self, baseline: Baseline) -> bool:
        """Store a NIL's reference snapshot (the NIL must exist); False when it was already the same."""
        await self.geography.require_nil(baseline.nil)
        return await self.baselines.put(baseline)

    async def nil_baselines(self, nil_id: int) -> tuple[Baseline | None, Baseline | None]:
        """The NIL's snapshot and the city's (every NIL's summed), when imported."""
        everyone = await self.baselines.all()
        return next((b for b in everyone if b.nil == nil_id), None), city_baseline(everyone)

    async def district_baselines(self, code: str) -> tuple[Baseline | None, Baseline | None]:
        """The district's snapshot, from the NILs it covers (each weighted by the share of its area
        inside the district), and the city's."""
        everyone = await self.baselines.all()
        locator = await self.current.locator(await self.geography.version())
        return area_baseline(everyone, locator.nil_shares(code)), city_baseline(everyone)

    async def district(self, code: str, threshold: float) -> Mix:
        await self.geography.require_district(code)
        return await self._mix(district_key(code), [code], None, threshold)

    async def nil(self, nil_id: int, threshold: float) -> Mix:
        await self.geography.require_nil(nil_id)
        return await self._mix(nil_key(nil_id), None, [nil_id], threshold)

    async def _mix(self, key: str, codes: Sequence[str] | None, nil_ids: Sequence[int] | None, threshold: float) -> Mix:
        generation = (await self.states.current()).active
        here = _categories(await self.store.active_shops_by_category(generation, codes, nil_ids))
        city = _categories(await self.store.active_shops_by_category(generation))
        placed = await self.store.placed(generation, codes, nil_ids, None)
        markets = [e.ref for e in placed if e.type is EntityType.MARKET and e.active]
        stalls = await self.store.children(generation, "market_id", markets, None)
        in_use = Counter(
            str(s.fields.get("category") or "unknown")
            for s in stalls
            if s.type is EntityType.STALL and s.fields.get("status") not in (None, VACANT)
        )
        population = (await self.figures.figures([key]))[key].kpis.population
        return product_mix(here, city, population=population, stalls=in_use, threshold=threshold)
