"""The districts' picture: each district or NIL with its figures (active generation) and open alerts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from districts.alerts.service import AlertsService
from districts.geography.domain import District, Nil
from districts.geography.service import GeographyService
from districts.geography.store import GeographyStore
from districts.overview.domain import DistrictView, NilView
from districts.projection.domain import district_key, nil_key
from districts.projection.service import KpiQueries


@dataclass(frozen=True)
class OverviewService:
    districts: GeographyStore
    geography: GeographyService
    figures: KpiQueries
    alerts: AlertsService

    async def _district_views(self, districts: Sequence[District]) -> list[DistrictView]:
        codes = [d.code for d in districts]
        figures, alerts = await asyncio.gather(
            self.figures.figures(district_key(c) for c in codes), self.alerts.open_alerts(codes)
        )
        return [DistrictView(d, figures[district_key(d.code)], tuple(alerts[d.code])) for d in districts]

    async def list_districts(self, limit: int, offset: int) -> tuple[list[DistrictView], int]:
        districts = await self.districts.districts(limit=limit, offset=offset, with_perimeter=False)
        return await self._district_views(districts), await self.districts.count_districts()

    async def all_districts(self) -> list[DistrictView]:
        """Every district with its perimeter (for the exports)."""
        return await self._district_views(await self.districts.districts())

    async def district(self, code: str) -> DistrictView:
        """The district (404 if there is none), its figures and open alerts, read at once."""
        district, figures, alerts = await asyncio.gather(
            self.geography.require_district(code),
            self.figures.figures([district_key(code)]),
            self.alerts.open_alerts([code]),
        )
        return DistrictView(district, figures[district_key(code)], tuple(alerts[code]))

    async def _nil_views(self, nils: Sequence[Nil]) -> list[NilView]:
        figures = await self.figures.figures(nil_key(n.id) for n in nils)
        return [NilView(n, figures[nil_key(n.id)]) for n in nils]

    async def list_nils(self, limit: int, offset: int) -> tuple[list[NilView], int]:
        nils = await self.districts.nils(limit=limit, offset=offset, with_perimeter=False)
        return await self._nil_views(nils), await self.districts.count_nils()

    async def all_nils(self) -> list[NilView]:
        """Every NIL without its perimeter (for the exports)."""
        return await self._nil_views(await self.districts.nils(with_perimeter=False))

    async def nil_outlines(self) -> list[Nil]:
        """Every NIL with its perimeter and no figures (the maps' base layer)."""
        return await self.districts.nils()

    async def nil(self, nil_id: int) -> NilView:
        return (await self._nil_views([await self.geography.require_nil(nil_id)]))[0]
