"""The vitality index of an area (0 to 100): a weighted mean of component scores, each explained.

The formula and its rationale are in docs/vitality.md. A component that cannot be measured in an
area (no market, no historic shop, no known population, no service hours) is shown with no score
and its weight is shared among the others, so the index never punishes what is simply absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from districts.projection.domain import Kpis, Measures
from shared.i18n import Said, italian

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
    explanation_it: str = ""  # the same in Italian (empty in indexes stored before it was kept)


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
    explanation: Said


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _it(number: float, decimals: int) -> str:
    return italian(number, f",.{decimals}f")


def _clamp(score: float) -> float:
    return max(0.0, min(100.0, score))


def _not_counted(name: str, why: Said) -> _Part:
    """A component that cannot be measured here: no value, no score, its weight goes to the others."""
    return _Part(name, None, None, Said(it=f"non conteggiata: {why.it}", en=f"not counted: {why.en}"))


def _against_target(name: str, value: float, target: float, explanation: Said) -> _Part:
    """A component scored by how close ``value`` comes to ``target`` (reaching it scores 100)."""
    return _Part(name, value, _clamp(value / target * 100), explanation)


def _net_openings(m: Measures) -> _Part:
    k = m.kpis
    if k.shops_active == 0 and k.openings_30d + k.closures_30d == 0:
        return _not_counted(NET_OPENINGS, Said(it="nessuna attività nota qui", en="no business is known here"))
    net = (k.openings_30d - k.closures_30d) / max(k.shops_active, 1) * 100
    full = NET_CHANGE_FOR_FULL_SCORE
    opened_it = _count(k.openings_30d, "apertura", "aperture")
    closed_it = _count(k.closures_30d, "chiusura", "chiusure")
    active_it = _count(k.shops_active, "attività attiva", "attività attive")
    return _Part(
        NET_OPENINGS,
        net,
        _clamp(50 + net * 50 / full),
        Said(
            it=f"{opened_it} e {closed_it} in 30 giorni su {active_it}: saldo {'+' if net >= 0 else '-'}{_it(abs(net), 1)} % "
            f"(-{full:g} % vale 0, 0 vale 50, +{full:g} % vale 100)",
            en=f"{_count(k.openings_30d, 'opening', 'openings')} and {_count(k.closures_30d, 'closure', 'closures')} "
            f"in 30 days for {_count(k.shops_active, 'active business', 'active businesses')}: net {net:+.1f} % "
            f"(-{full:g} % scores 0, 0 scores 50, +{full:g} % scores 100)",
        ),
    )


def _occupancy(m: Measures) -> _Part:
    k = m.kpis
    if k.stall_occupancy is None:
        return _not_counted(OCCUPANCY, Said(it="nessun mercato coperto attivo qui", en="no active covered market here"))
    assigned, share = k.stalls_total - k.stalls_vacant, f"{k.stall_occupancy:.0%}"
    return _Part(
        OCCUPANCY,
        k.stall_occupancy,
        k.stall_occupancy * 100,
        Said(
            it=f"{assigned} posteggi su {k.stalls_total} sono assegnati ({share}); il punteggio è l'occupazione in percentuale",
            en=f"{assigned} of {k.stalls_total} market stalls are assigned ({share}); the score is the occupancy in percent",
        ),
    )


def _survival(m: Measures) -> _Part:
    if m.historic_known == 0:
        return _not_counted(SURVIVAL, Said(it="nessuna bottega storica nota qui", en="no historic shop is known here"))
    share = m.kpis.historic_active / m.historic_known
    active, known = m.kpis.historic_active, m.historic_known
    return _Part(
        SURVIVAL,
        share,
        share * 100,
        Said(
            it=f"{active} delle {known} botteghe storiche note sono ancora attive ({share:.0%})",
            en=f"{active} of {known} known historic shops are still active ({share:.0%})",
        ),
    )


def _coverage(m: Measures, targets: Targets) -> _Part:
    population = m.kpis.population
    if not population:
        return _not_counted(
            COVERAGE,
            Said(it="popolazione sconosciuta (importare i NIL)", en="the population is unknown (import the NILs)"),
        )
    per_1000 = m.kpis.services_total / population * 1000
    services, target = m.kpis.services_total, targets.services_per_1000
    return _against_target(
        COVERAGE,
        per_1000,
        target,
        Said(
            it=f"{services} servizi di prossimità per {_it(population, 0)} residenti: {_it(per_1000, 2)} ogni 1.000 "
            f"({_it(target, 0) if target == int(target) else _it(target, 2)} ogni 1.000 vale 100)",
            en=f"{services} neighbourhood services for {population:,} residents: {per_1000:.2f} per 1,000 "
            f"({target:g} per 1,000 scores 100)",
        ),
    )


def _hours(m: Measures, targets: Targets) -> _Part:
    if m.weekly_minutes == 0:
        return _not_counted(HOURS, Said(it="nessun servizio con orari qui", en="no service with opening hours here"))
    share = min(1.0, (m.evening_minutes + m.weekend_minutes) / m.weekly_minutes)
    target = targets.extended_hours_share
    return _against_target(
        HOURS,
        share,
        target,
        Said(
            it=f"il {share:.0%} delle ore settimanali di servizio cade la sera (dopo le 19:00) o nel fine settimana "
            f"({target:.0%} vale 100)",
            en=f"{share:.0%} of weekly service hours fall in evenings (after 19:00) or at weekends ({target:.0%} scores 100)",
        ),
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
            explanation=p.explanation.en,
            explanation_it=p.explanation.it,
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


@dataclass(frozen=True)
class StoredArea:
    """An area's figures as stored, when they were last sampled into the time series, and whether a
    later move still waits for its sample (it came sooner than the sampling interval allows)."""

    figures: AreaFigures
    sampled_at: datetime | None = None
    sample_due: bool = False

    def may_sample(self, now: datetime, every: timedelta) -> bool:
        """Whether a sample taken ``now`` keeps to the interval ``every`` since the last one."""
        return self.sampled_at is None or now - self.sampled_at >= every


def area_figures(measures: Measures, targets: Targets, now: datetime) -> AreaFigures:
    """The KPIs of an area with its vitality index, as of ``now``."""
    index = vitality(measures, targets)
    return AreaFigures(replace(measures.kpis, vitality_index=index.index, as_of=now), index)
