"""Use case of the DUC report: gather a district's projections through the existing use cases."""

from __future__ import annotations

from dataclasses import dataclass

from districts.interventions.domain import Intervention, TargetType, sentence
from districts.interventions.service import InterventionsService
from districts.mix.domain import GAP_THRESHOLD
from districts.mix.service import MixService
from districts.opendata.exports import historic_shops, market_rows, service_points
from districts.overview.service import OverviewService
from districts.projection.service import CityContents, KpiQueries
from districts.report.domain import (
    IMPACT_METRIC,
    IMPACT_WINDOW_DAYS,
    MARK_KINDS,
    SERIES_METRICS,
    Contents,
    HistoricFacts,
    MarketFacts,
    MixItem,
    MixSection,
    Place,
    Report,
    build_report,
    period,
    report_as_of,
)
from shared.categories import LABELS


@dataclass(frozen=True)
class ReportService:
    overview: OverviewService
    figures: KpiQueries
    contents: CityContents
    interventions: InterventionsService
    mixes: MixService

    async def report(self, code: str, language: str) -> Report:
        """The district's report (404 for an unknown district), dated by its figures' as-of time."""
        view = await self.overview.district(code)
        start, end = period(report_as_of(view.district, view.figures))
        series = await self.figures.timeseries_of(code, SERIES_METRICS, start, end)
        area = await self.contents.district(code)
        markets = [m for m in area.markets if m.active]
        places = [
            Place(shop.text("kind") or "shop", shop.text("name") or "", *shop.location)
            for shop in area.shops
            if shop.active and shop.location
        ]
        places += [Place("market", m.text("name") or "", *m.location) for m in markets if m.location]
        active_markets = {m.ref for m in markets}
        rows = [r for r in market_rows(area, end) if r.market_id in active_markets]
        own = [i for i in await self.interventions.all() if self._targets(i, code, {m.ref for m in area.markets})]
        impacts = []
        for intervention in own:
            _, impact = await self.interventions.impact(intervention.code, IMPACT_METRIC, IMPACT_WINDOW_DAYS)
            impacts.append((intervention, impact, sentence(intervention, impact, language)))
        contents = Contents(
            places=tuple(p for p in places if p.kind in MARK_KINDS),
            historic=tuple(HistoricFacts(h.name, h.year_founded, h.status) for h in historic_shops(area)),
            markets=tuple(
                MarketFacts(
                    r.name, r.stalls_total, r.stalls_open, r.stalls_vacant, r.stalls_closed, r.stalls_maintenance
                )
                for r in rows
            ),
            offers=tuple(
                (p.service, p.weekly_minutes, p.evening_minutes, p.weekend_minutes) for p in service_points(area)
            ),
            interventions=tuple(impacts),
            mix=await self._mix(code, language),
        )
        samples = {metric: s.samples for metric, s in series.items()}
        return build_report(view.district, view.figures, view.open_alerts, samples, contents, language)

    async def _mix(self, code: str, language: str) -> MixSection:
        mix = await self.mixes.district(code, GAP_THRESHOLD)
        return MixSection(
            tuple(
                MixItem(
                    category=line.category.value,
                    label=LABELS[line.category].in_(language),
                    count=line.count,
                    share=line.share or 0.0,
                    city_share=line.city_share or 0.0,
                    location_quotient=line.quotient,
                    gap=line.gap,
                )
                for line in mix.lines
                if line.count or line.city_count
            )
        )

    @staticmethod
    def _targets(intervention: Intervention, code: str, markets: set[str]) -> bool:
        """An intervention on the district itself or on one of its markets."""
        target = intervention.target
        if target.type is TargetType.DISTRICT:
            return target.id == code
        return target.type is TargetType.MARKET and target.id in markets
