"""Use cases of the open data: the catalogue and the exports it lists, read through the overview and the
projected entities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from districts.interventions.domain import Intervention
from districts.interventions.service import InterventionsService
from districts.opendata.domain import DATASETS, Publisher, catalog
from districts.opendata.exports import (
    HistoricShop,
    MarketRow,
    ServicePoint,
    historic_shops,
    market_rows,
    service_points,
)
from districts.overview.domain import DistrictView, NilView
from districts.overview.service import OverviewService
from districts.projection.service import CityContents
from shared.events import utcnow


@dataclass(frozen=True)
class OpenDataService:
    overview: OverviewService
    interventions: InterventionsService
    contents: CityContents
    publisher: Publisher
    clock: Callable[[], datetime] = utcnow

    async def catalog(self) -> dict[str, Any]:
        """The catalogue, dated by the newest KPIs computed (today while nothing has been)."""
        districts = await self.overview.all_districts()
        computed = [v.figures.kpis.as_of for v in districts if v.figures.kpis.as_of is not None]
        return catalog(DATASETS, self.publisher, max(computed, default=self.clock()))

    async def districts(self) -> list[DistrictView]:
        return await self.overview.all_districts()

    async def nils(self) -> list[NilView]:
        return await self.overview.all_nils()

    async def markets(self) -> list[MarketRow]:
        return market_rows(await self.contents.city(), self.clock())

    async def service_points(self) -> list[ServicePoint]:
        return service_points(await self.contents.city())

    async def historic_shops(self) -> list[HistoricShop]:
        return historic_shops(await self.contents.city())

    async def all_interventions(self) -> list[Intervention]:
        return await self.interventions.all()
