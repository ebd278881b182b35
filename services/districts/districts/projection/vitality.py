"""The vitality index of an area (0 to 100): a weighted mean of component scores, each explained.

The formula and its rationale are in docs/vitality.md. A component that cannot be measured in an
area (no market, no historic shop, no known population, no service hours) is shown with no score
and its weight is shared among the others, so the index never punishes what is simply absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from districts.projection.domain import Kpis, Measures

NET_OPENINGS, OCCUPANCY, SURVIVAL, COVERAGE, HOURS = (
    "net_openings",
    "stall_occupancy",
    "historic_survival",
    "service_coverage",
    "extended_hours",
)
WEIGHTS = {NET_OPENINGS: 0.25, OCCUPANCY: 0.20, SURVIVAL: 0.20, COVERAGE: 0.20, HOURS: 0.15}
NET_CHANGE_FOR_FULL_SCORE = 5.0  # net openings, % of active businesses in 30 days, for 0 or 100


@dataclass(frozen=True)
class Component:
    name: str
    value: float | None
    score: float | None
    weight: float
    explanation: str


@dataclass(frozen=True)
class Vitality:
    index: float | None
    components: tuple[Component, ...] = ()

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Vitality:
        """The index as stored: ``{"index": …, "components": [{name, value, score, weight, explanation}]}``."""
        return cls(values.get("index"), tuple(Component(**c) for c in values.get("components", [])))


@dataclass(frozen=True)
class Targets:
    """Levels that score 100: services per 1,000 residents, share of evening/weekend minutes."""

    services_per_1000: float = 1.0
    extended_hours_share: float = 0.4


@dataclass(frozen=True)
class _Part:
    name: str
    value: float | None
    score: float | None
    explanation: str


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _clamp(score: float) -> float:
    return max(0.0, min(100.0, score))


def _not_counted(name: str, why: str) -> _Part:
    """A component that cannot be measured here: no value, no score, its weight goes to the others."""
    return _Part(name, None, None, f"not counted: {why}")


def _against_target(name: str, value: float, target: float, explanation: str) -> _Part:
    """A component scored by how close ``value`` comes to ``target`` (reaching it scores 100)."""
    return _Part(name, value, _clamp(value / target * 100), explanation)


def _net_openings(m: Measures) -> _Part:
    k = m.kpis
    if k.shops_active == 0 and k.openings_30d + k.closures_30d == 0:
        return _not_counted(NET_OPENINGS, "no business is known here")
    net = (k.openings_30d - k.closures_30d) / max(k.shops_active, 1) * 100
    return _Part(
        NET_OPENINGS,
        net,
        _clamp(50 + net * 50 / NET_CHANGE_FOR_FULL_SCORE),
        f"{_count(k.openings_30d, 'opening', 'openings')} and {_count(k.closures_30d, 'closure', 'closures')} in 30 days for "
        f"{_count(k.shops_active, 'active business', 'active businesses')}: net {net:+.1f} % (-{NET_CHANGE_FOR_FULL_SCORE:g} % scores 0, 0 scores 50, "
        f"+{NET_CHANGE_FOR_FULL_SCORE:g} % scores 100)",
    )


def _occupancy(m: Measures) -> _Part:
    k = m.kpis
    if k.stall_occupancy is None:
        return _not_counted(OCCUPANCY, "no active covered market here")
    return _Part(
        OCCUPANCY,
        k.stall_occupancy,
        k.stall_occupancy * 100,
        f"{k.stalls_total - k.stalls_vacant} of {k.stalls_total} market stalls are assigned "
        f"({k.stall_occupancy:.0%}); the score is the occupancy in percent",
    )


def _survival(m: Measures) -> _Part:
    if m.historic_known == 0:
        return _not_counted(SURVIVAL, "no historic shop is known here")
    share = m.kpis.historic_active / m.historic_known
    return _Part(
        SURVIVAL,
        share,
        share * 100,
        f"{m.kpis.historic_active} of {m.historic_known} known historic shops are still active ({share:.0%})",
    )


def _coverage(m: Measures, targets: Targets) -> _Part:
    population = m.kpis.population
    if not population:
        return _not_counted(COVERAGE, "the population is unknown (import the NILs)")
    per_1000 = m.kpis.services_total / population * 1000
    return _against_target(
        COVERAGE,
        per_1000,
        targets.services_per_1000,
        f"{m.kpis.services_total} neighbourhood services for {population:,} residents: {per_1000:.2f} per 1,000 "
        f"({targets.services_per_1000:g} per 1,000 scores 100)",
    )


def _hours(m: Measures, targets: Targets) -> _Part:
    if m.weekly_minutes == 0:
        return _not_counted(HOURS, "no service with opening hours here")
    share = min(1.0, (m.evening_minutes + m.weekend_minutes) / m.weekly_minutes)
    return _against_target(
        HOURS,
        share,
        targets.extended_hours_share,
        f"{share:.0%} of weekly service hours fall in evenings (after 19:00) or at weekends "
        f"({targets.extended_hours_share:.0%} scores 100)",
    )


def vitality(measures: Measures, targets: Targets) -> Vitality:
    parts = [
        _net_openings(measures),
        _occupancy(measures),
        _survival(measures),
        _coverage(measures, targets),
        _hours(measures, targets),
    ]
    counted = sum(WEIGHTS[p.name] for p in parts if p.score is not None)
    components = tuple(
        Component(
            name=p.name,
            value=None if p.value is None else round(p.value, 4),
            score=None if p.score is None else round(p.score, 1),
            weight=round(WEIGHTS[p.name] / counted, 4) if p.score is not None else 0.0,
            explanation=p.explanation,
        )
        for p in parts
    )
    if not counted:
        return Vitality(index=None, components=components)
    index = sum(WEIGHTS[p.name] * p.score for p in parts if p.score is not None) / counted
    return Vitality(index=round(index, 1), components=components)


@dataclass(frozen=True)
class AreaFigures:
    """What an area's projection shows: its KPIs and its vitality index."""

    kpis: Kpis
    vitality: Vitality


NO_FIGURES = AreaFigures(Kpis(), Vitality(index=None))
