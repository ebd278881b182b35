"""The DUC report of a district: what it says, as plain data, in Italian or English.

Pure: the district's projections (its perimeter, KPIs, vitality, time series, markets, services,
historic shops, interventions and alerts) come in, the report's content goes out as frozen
dataclasses with every text already worded in the language asked for. The renderers (HTML and
PDF) only lay it out. Everything is dated by the data's own as-of time, never by the clock, so
the same data always gives the same report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from districts.alerts.domain import Alert
from districts.geography.domain import District
from districts.interventions.domain import Impact, Intervention
from districts.projection.domain import ROME
from districts.projection.labels import KPI_LABELS
from districts.projection.vitality import AreaFigures, Component
from shared.i18n import ITALIAN_DIGITS

LANGUAGES = ("it", "en")
TREND_DAYS = 90
IMPACT_METRIC = "vitality_index"
IMPACT_WINDOW_DAYS = 30
TREND_METRICS = ("vitality_index", "shops_active", "stall_occupancy", "services_total")
MOVEMENT_METRICS = ("openings_30d", "closures_30d")
SERIES_METRICS = TREND_METRICS + MOVEMENT_METRICS
FIGURE_METRICS = (
    "vitality_index",
    "shops_active",
    "historic_active",
    "kiosks_active",
    "services_total",
    "stalls_total",
    "stalls_open",
    "stalls_vacant",
    "stall_occupancy",
    "openings_30d",
    "closures_30d",
    "historic_closures_30d",
)
SHARES = frozenset({"stall_occupancy"})
MAP_WIDTH = 440.0
MAP_MARGIN = 12.0
MARK_KINDS = ("market", "historic", "kiosk", "shop")

Samples = Sequence[tuple[datetime, float | None]]


# ---------------------------------------------------------------- words


@dataclass(frozen=True)
class Words:
    """Every fixed text of the report in one language."""

    title: str
    subtitle: str
    purpose: str
    as_of: str
    no_data: str
    period: str
    perimeter: str
    map_alt: str
    legend: Mapping[str, str]
    figures: str
    indicator: str
    value: str
    at_start: str
    change: str
    trend_alt: str
    day: str
    chart_data: str
    vitality: str
    vitality_index: str
    component: str
    score: str
    weight: str
    not_counted: str
    components_alt: str
    movements: str
    net: str
    movements_alt: str
    historic: str
    no_historic: str
    shop_name: str
    founded: str
    status: str
    statuses: Mapping[str, str]
    markets: str
    no_markets: str
    market: str
    stalls: str
    stall_statuses: Mapping[str, str]
    occupancy: str
    occupancy_alt: str
    services: str
    no_services: str
    service: str
    points: str
    weekly_hours: str
    extended_share: str
    services_alt: str
    mix: str
    mix_unavailable: str
    category: str
    businesses: str
    share: str
    city_share: str
    quotient: str
    gap: str
    interventions: str
    no_interventions: str
    started: str
    kind: str
    kinds: Mapping[str, str]
    before: str
    after: str
    estimate: str
    impact_note: str
    alerts: str
    no_alerts: str
    condition: str
    conditions: Mapping[str, str]
    raised_at: str
    threshold: str
    sources: str
    source: str
    as_of_date: str
    source_lines: Mapping[str, str]
    metrics: Mapping[str, str]
    components: Mapping[str, str]
    months: tuple[str, ...]
    decimal: str
    yes: str
    no: str


def _load_words() -> dict[str, Words]:
    """The texts of every language, kept in ``words.json`` beside this module (one table a language)."""
    tables = json.loads(resources.files(__package__).joinpath("words.json").read_text(encoding="utf-8"))
    return {
        language: Words(**{**table, "months": tuple(table["months"]), "metrics": KPI_LABELS[language]})
        for language, table in tables.items()
    }


WORDS = _load_words()


# ---------------------------------------------------------------- how numbers and dates are written


def number(value: float | None, words: Words, digits: int = 1) -> str:
    """A figure as the language writes it (``1.234,5`` in Italian, ``1,234.5`` in English); a dash when unknown."""
    if value is None:
        return "—"
    text = f"{int(value):,}" if float(value).is_integer() and digits <= 1 else f"{value:,.{digits}f}"
    if words.decimal == ",":
        text = text.translate(ITALIAN_DIGITS)
    return text


def percent(share: float | None, words: Words) -> str:
    """A 0-1 share as a percentage with at most one decimal."""
    if share is None:
        return "—"
    value = round(share * 100, 1)
    return f"{number(value, words)}%"


def signed(value: float | None, words: Words, share: bool = False) -> str:
    if value is None:
        return "—"
    text = percent(abs(value), words) if share else number(abs(value), words)
    return ("+" if value > 0 else "-" if value < 0 else "±") + text


def figure_text(metric: str, value: float | None, words: Words) -> str:
    return percent(value, words) if metric in SHARES else number(value, words)


def day_text(day: date, words: Words) -> str:
    return f"{day.day} {words.months[day.month - 1]} {day.year}"


def moment_text(at: datetime, words: Words) -> str:
    local = at.astimezone(ROME)
    return f"{day_text(local.date(), words)}, {local:%H:%M}"


def short_day(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"


# ---------------------------------------------------------------- the perimeter map


@dataclass(frozen=True)
class Place:
    """A market or business inside the district, where the producer located it."""

    kind: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class MapMark:
    kind: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class PerimeterMap:
    """The perimeter's rings and the places inside, projected onto a ``width`` x ``height`` box (y up)."""

    width: float
    height: float
    rings: tuple[tuple[tuple[float, float], ...], ...]
    marks: tuple[MapMark, ...]

    def count(self, kind: str) -> int:
        return sum(m.kind == kind for m in self.marks)


def _rings(perimeter: Mapping[str, Any]) -> list[list[tuple[float, float]]]:
    """Every ring (outer and holes) of a GeoJSON Polygon or MultiPolygon, as (lon, lat) pairs."""
    polygons = perimeter.get("coordinates") or []
    if perimeter.get("type") == "Polygon":
        polygons = [polygons]
    return [[(float(p[0]), float(p[1])) for p in ring] for polygon in polygons for ring in polygon]


def project_map(perimeter: Mapping[str, Any] | None, places: Iterable[Place], width: float = MAP_WIDTH) -> PerimeterMap:
    """Project lon/lat onto the page: equirectangular around the perimeter's middle latitude (at a
    district's scale, a few kilometres, distances are kept to well under one per cent), scaled to fit."""
    rings = _rings(perimeter or {})
    places = list(places)
    points = [p for ring in rings for p in ring] or [(p.lon, p.lat) for p in places]
    if not points:
        return PerimeterMap(width, width / 2, (), ())
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * squeeze, 1e-9)
    span_y = max(max(lats) - min(lats), 1e-9)
    inner = width - 2 * MAP_MARGIN
    height = min(max(inner * span_y / span_x, width / 3), width) + 2 * MAP_MARGIN
    scale = min(inner / span_x, (height - 2 * MAP_MARGIN) / span_y)
    left = (width - span_x * scale) / 2
    bottom = (height - span_y * scale) / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return (
            round(left + (lon - min(lons)) * squeeze * scale, 2),
            round(bottom + (lat - min(lats)) * scale, 2),
        )

    marks = tuple(
        MapMark(p.kind, p.name, *at(p.lon, p.lat))
        for p in sorted(places, key=lambda p: (MARK_KINDS.index(p.kind), p.name, p.lon, p.lat))
    )
    return PerimeterMap(width, round(height, 2), tuple(tuple(at(*p) for p in ring) for ring in rings), marks)


# ---------------------------------------------------------------- figures and trends


@dataclass(frozen=True)
class Trend:
    """A KPI day by day (the last sample of each day in Milan), over the report's period."""

    metric: str
    label: str
    days: tuple[tuple[date, float], ...]
    share: bool

    @property
    def first(self) -> float | None:
        return self.days[0][1] if self.days else None

    @property
    def last(self) -> float | None:
        return self.days[-1][1] if self.days else None


def daily(samples: Samples) -> tuple[tuple[date, float], ...]:
    """The last known value of each day in Milan, oldest day first (the day is looked up once per day)."""
    days: dict[date, float] = {}
    day, since, until = date.min, datetime.max.replace(tzinfo=ROME), datetime.min.replace(tzinfo=ROME)
    for at, value in sorted(((at, v) for at, v in samples if v is not None), key=lambda s: s[0]):
        if not since <= at < until:
            day = at.astimezone(ROME).date()
            since = datetime.combine(day, time(), ROME).astimezone(UTC)  # compared in UTC: much cheaper
            until = datetime.combine(day + timedelta(days=1), time(), ROME).astimezone(UTC)
        days[day] = float(value)
    return tuple(sorted(days.items()))


@dataclass(frozen=True)
class FigureLine:
    metric: str
    label: str
    value: str
    at_start: str
    change: str


@dataclass(frozen=True)
class ComponentLine:
    name: str
    label: str
    value: str
    score: float | None
    score_text: str
    weight: str
    explanation: str


def _component_value(component: Component, words: Words) -> str:
    if component.value is None:
        return words.not_counted
    if component.name == "net_openings":
        return f"{signed(component.value, words)}%"
    if component.name == "service_coverage":
        return number(component.value, words, 2)
    return percent(component.value, words)


def component_line(component: Component, words: Words, language: str) -> ComponentLine:
    return ComponentLine(
        name=component.name,
        label=words.components.get(component.name, component.name),
        value=_component_value(component, words),
        score=component.score,
        score_text=words.not_counted if component.score is None else number(component.score, words),
        weight=percent(component.weight, words) if component.score is not None else "—",
        explanation=component.explanation if language == "en" else component.explanation_it,
    )


# ---------------------------------------------------------------- the district's contents


@dataclass(frozen=True)
class HistoricLine:
    name: str
    founded: str
    status: str


@dataclass(frozen=True)
class MarketFacts:
    """A market's stalls counted by status as the KPIs count them."""

    name: str
    total: int
    open: int
    vacant: int
    closed: int
    maintenance: int


@dataclass(frozen=True)
class MarketLine(MarketFacts):
    """A market's counts as the report prints them, with its occupancy."""

    occupancy: float | None
    occupancy_text: str


@dataclass(frozen=True)
class ServiceLine:
    service: str
    label: str
    points: int
    weekly_hours: str
    extended_share: str


def service_lines(offers: Iterable[tuple[str, int, int, int]], words: Words) -> tuple[ServiceLine, ...]:
    """Services grouped by type from ``(service, weekly, evening, weekend minutes)`` of each point."""
    grouped: dict[str, list[tuple[int, int, int]]] = {}
    for service, weekly, evening, weekend in offers:
        grouped.setdefault(service, []).append((weekly, evening, weekend))
    lines = []
    for service, hours in sorted(grouped.items()):
        weekly = sum(h[0] for h in hours)
        extended = sum(h[1] + h[2] for h in hours)
        lines.append(
            ServiceLine(
                service=service,
                label=service.replace("_", " ").capitalize(),
                points=len(hours),
                weekly_hours=number(round(weekly / 60, 1), words),
                extended_share=percent(min(1.0, extended / weekly), words) if weekly else "—",
            )
        )
    return tuple(lines)


@dataclass(frozen=True)
class MixItem:
    """One category of the product mix, as ``GET /districts/{code}/mix`` gives it."""

    category: str
    label: str
    count: int
    share: float
    city_share: float
    location_quotient: float | None
    gap: bool
    share_text: str = ""  # the three figures as the report's language writes them
    city_share_text: str = ""
    quotient_text: str = ""

    def written(self, words: Words) -> MixItem:
        return replace(
            self,
            share_text=percent(self.share, words),
            city_share_text=percent(self.city_share, words),
            quotient_text=number(self.location_quotient, words, digits=2),
        )


@dataclass(frozen=True)
class MixSection:
    """The product mix and its gaps (the categories the district or the city has)."""

    items: tuple[MixItem, ...] = ()

    @property
    def available(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class InterventionLine:
    code: str
    title: str
    kind: str
    started: str
    before: str
    after: str
    change: str
    estimate: str
    sentence: str


def intervention_line(intervention: Intervention, impact: Impact, sentence: str, words: Words) -> InterventionLine:
    target = impact.target
    return InterventionLine(
        code=intervention.code,
        title=intervention.title,
        kind=words.kinds.get(intervention.kind.value, intervention.kind.value),
        started=day_text(intervention.started_at.astimezone(ROME).date(), words),
        before=number(target.before.value, words),
        after=number(target.after.value, words),
        change=signed(target.change, words),
        estimate=signed(impact.estimate, words),
        sentence=sentence,
    )


@dataclass(frozen=True)
class AlertLine:
    condition: str
    since: str
    value: str
    threshold: str
    detail: str


def alert_line(alert: Alert, words: Words, language: str) -> AlertLine:
    share = alert.condition == "low_occupancy"
    label = words.conditions.get(alert.condition, alert.condition)
    service = alert.key.partition(":")[2] if alert.condition == "service_missing" else ""
    return AlertLine(
        condition=f"{label}: {service}" if service else label,
        since=moment_text(alert.raised_at, words),
        value=percent(alert.value, words) if share else number(alert.value, words),
        threshold=percent(alert.threshold, words) if share else number(alert.threshold, words),
        detail=alert.detail if language == "en" else alert.detail_it,
    )


@dataclass(frozen=True)
class SourceLine:
    source: str
    as_of: str


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class HistoricFacts:
    name: str
    year_founded: int | None
    status: str


@dataclass(frozen=True)
class Contents:
    """What the district holds, read from the projections and the interventions."""

    places: tuple[Place, ...] = ()
    historic: tuple[HistoricFacts, ...] = ()
    markets: tuple[MarketFacts, ...] = ()
    offers: tuple[tuple[str, int, int, int], ...] = ()
    interventions: tuple[tuple[Intervention, Impact, str], ...] = ()
    mix: MixSection = field(default_factory=MixSection)


@dataclass(frozen=True)
class Report:
    language: str
    words: Words
    code: str
    name: str
    title: str
    as_of: datetime
    as_of_text: str
    period_text: str
    period_start: date
    period_end: date
    map: PerimeterMap
    map_alt: str
    figures: tuple[FigureLine, ...]
    trends: tuple[Trend, ...]
    vitality_text: str
    components: tuple[ComponentLine, ...]
    openings: str
    closures: str
    historic_closures: str
    net: str
    movement_trends: tuple[Trend, ...]
    historic: tuple[HistoricLine, ...]
    markets: tuple[MarketLine, ...]
    services: tuple[ServiceLine, ...]
    mix: MixSection
    interventions: tuple[InterventionLine, ...]
    alerts: tuple[AlertLine, ...]
    sources: tuple[SourceLine, ...]

    @property
    def filename(self) -> str:
        return f"rapporto-duc-{self.code}-{self.as_of.astimezone(ROME):%Y-%m-%d}-{self.language}.pdf"

    def trend_alt(self, trend: Trend) -> str:
        words = self.words
        if not trend.days:
            return f"{trend.label}: {words.no_data}"
        return words.trend_alt.format(
            metric=trend.label,
            start=day_text(self.period_start, words),
            end=day_text(self.period_end, words),
            first=figure_text(trend.metric, trend.first, words),
            last=figure_text(trend.metric, trend.last, words),
        )

    def value_text(self, trend: Trend, value: float) -> str:
        return figure_text(trend.metric, value, self.words)


def report_as_of(district: District, figures: AreaFigures) -> datetime:
    """The report's date: when the district's figures were computed (its definition's, before that)."""
    return figures.kpis.as_of or district.updated_at


def period(as_of: datetime) -> tuple[datetime, datetime]:
    """The span of the trends: the :data:`TREND_DAYS` days up to the data's as-of time."""
    return as_of - timedelta(days=TREND_DAYS), as_of


def _map_summary(m: PerimeterMap, words: Words) -> str:
    return ", ".join(f"{words.legend[kind].lower()}: {m.count(kind)}" for kind in MARK_KINDS)


def build_report(
    district: District,
    figures: AreaFigures,
    alerts: Sequence[Alert],
    series: Mapping[str, Samples],
    contents: Contents,
    language: str,
) -> Report:
    """The report of one district in ``language`` (``it`` unless ``en``)."""
    language = language if language in LANGUAGES else "it"
    words = WORDS[language]
    as_of = report_as_of(district, figures)
    start, end = period(as_of)
    start_day, end_day = start.astimezone(ROME).date(), end.astimezone(ROME).date()
    kpis = figures.kpis.values()
    trends = {
        metric: Trend(metric, words.metrics[metric], daily(series.get(metric, ())), metric in SHARES)
        for metric in SERIES_METRICS
    }

    def line(metric: str) -> FigureLine:
        value, trend = kpis.get(metric), trends.get(metric)
        first = trend.first if trend else None
        change = None if value is None or first is None else value - first
        return FigureLine(
            metric=metric,
            label=words.metrics[metric],
            value=figure_text(metric, value, words),
            at_start=figure_text(metric, first, words) if trend else "—",
            change=signed(change, words, metric in SHARES) if trend else "—",
        )

    figure_lines = [line(metric) for metric in FIGURE_METRICS]
    population = figures.kpis.population
    figure_lines.append(FigureLine("population", words.metrics["population"], number(population, words), "—", "—"))
    perimeter_map = project_map(district.perimeter, contents.places)
    k = figures.kpis
    index = figures.vitality.index
    as_of_text = moment_text(as_of, words)
    sources = (
        SourceLine(
            words.source_lines["perimeter"].format(version=district.version), moment_text(district.updated_at, words)
        ),
        SourceLine(words.source_lines["kpis"], as_of_text),
        SourceLine(
            words.source_lines["series"].format(days=TREND_DAYS),
            f"{day_text(start_day, words)} - {day_text(end_day, words)}",
        ),
        SourceLine(words.source_lines["population"], as_of_text),
        SourceLine(words.source_lines["registers"], as_of_text),
        SourceLine(words.source_lines["interventions"], as_of_text),
        SourceLine(words.source_lines["opendata"], as_of_text),
    )
    return Report(
        language=language,
        words=words,
        code=district.code,
        name=district.name,
        title=words.title.format(name=district.name),
        as_of=as_of,
        as_of_text=words.as_of.format(when=as_of_text),
        period_text=words.period.format(
            days=TREND_DAYS, start=day_text(start_day, words), end=day_text(end_day, words)
        ),
        period_start=start_day,
        period_end=end_day,
        map=perimeter_map,
        map_alt=words.map_alt.format(name=district.name, summary=_map_summary(perimeter_map, words)),
        figures=tuple(figure_lines),
        trends=tuple(trends[m] for m in TREND_METRICS),
        vitality_text=words.vitality_index.format(index=number(index, words)),
        components=tuple(component_line(c, words, language) for c in figures.vitality.components),
        openings=number(k.openings_30d, words),
        closures=number(k.closures_30d, words),
        historic_closures=number(k.historic_closures_30d, words),
        net=signed(k.openings_30d - k.closures_30d, words),
        movement_trends=tuple(trends[m] for m in MOVEMENT_METRICS),
        historic=tuple(historic_line(h, words) for h in contents.historic),
        markets=tuple(market_line(m, words) for m in contents.markets),
        services=service_lines(contents.offers, words),
        mix=MixSection(tuple(item.written(words) for item in contents.mix.items)),
        interventions=tuple(intervention_line(i, impact, s, words) for i, impact, s in contents.interventions),
        alerts=tuple(alert_line(a, words, language) for a in sorted(alerts, key=lambda a: (a.raised_at, a.key))),
        sources=sources,
    )


def historic_line(shop: HistoricFacts, words: Words) -> HistoricLine:
    founded = str(shop.year_founded) if shop.year_founded else "—"
    return HistoricLine(shop.name, founded, words.statuses.get(shop.status, shop.status))


def market_line(m: MarketFacts, words: Words) -> MarketLine:
    occupancy = round((m.total - m.vacant) / m.total, 4) if m.total else None
    return MarketLine(m.name, m.total, m.open, m.vacant, m.closed, m.maintenance, occupancy, percent(occupancy, words))
