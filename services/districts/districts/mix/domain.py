"""Product mix and gaps of an area: which kinds of commerce it has, compared with the whole city.

Over the active shops and kiosks (historic shops included) of an area: per category of the
published list (``shared.categories``) the count, the share of the area's businesses, the city's
share (every active shop and kiosk the platform knows) and the location quotient, share here ÷
share in the city. A category the city has and the area has markedly less of (quotient below the
threshold, 0.5 by default) is a gap. With the area's population, each count per 10,000 residents.
Market stalls are counted apart, by their own categories. Pure: counts in, figures out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from shared.categories import Category

GAP_THRESHOLD = 0.5
PER_RESIDENTS = 10_000
# the reference counts of nil_commerce_baseline.csv, one NIL's (or the city's, summed) snapshot
BASELINE_FIGURES = ("neighbourhood_shops", "bars_restaurants", "historic_shops", "newsstands", "large_retail")


@dataclass(frozen=True)
class Baseline:
    """A NIL's reference snapshot of its commerce (the city's open data), shown beside the live mix."""

    nil: int
    population: int
    neighbourhood_shops: int
    bars_restaurants: int
    historic_shops: int
    newsstands: int
    large_retail: int
    source: str = ""

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in BASELINE_FIGURES}

    def per_10000(self) -> dict[str, float | None]:
        return {
            name: round(count / self.population * PER_RESIDENTS, 2) if self.population else None
            for name, count in self.counts().items()
        }


def area_baseline(baselines: list[Baseline], shares: Mapping[int, float]) -> Baseline | None:
    """An area's snapshot from its NILs': each NIL's counts and population weighted by the share of
    the NIL inside the area (people and shops spread evenly in a NIL, as for the KPIs' population);
    None when none of its NILs has one."""
    inside = [(b, shares[b.nil]) for b in baselines if shares.get(b.nil, 0) > 0]
    if not inside:
        return None
    sums = {
        name: round(sum(getattr(b, name) * share for b, share in inside)) for name in ("population", *BASELINE_FIGURES)
    }
    return Baseline(nil=0, source=inside[0][0].source, **sums)


def city_baseline(baselines: list[Baseline]) -> Baseline | None:
    """The city's snapshot: every NIL's counts and population summed (None without any)."""
    if not baselines:
        return None
    sums = {name: sum(getattr(b, name) for b in baselines) for name in ("population", *BASELINE_FIGURES)}
    return Baseline(nil=0, source=baselines[0].source, **sums)


@dataclass(frozen=True)
class MixLine:
    category: Category
    count: int
    share: float | None  # of the area's active businesses; None when it has none
    city_count: int
    city_share: float | None
    quotient: float | None  # share ÷ city share; None when either is unknown or the city has none
    per_10000: float | None  # per 10,000 residents; None without a population
    gap: bool


@dataclass(frozen=True)
class Mix:
    total: int
    city_total: int
    population: int | None
    threshold: float
    lines: tuple[MixLine, ...]
    stalls: Mapping[str, int]  # the area's market stalls by stall category (not in the shares)

    @property
    def gaps(self) -> tuple[Category, ...]:
        return tuple(line.category for line in self.lines if line.gap)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def product_mix(
    here: Counter[str],
    city: Counter[str],
    *,
    population: int | None,
    stalls: Mapping[str, int],
    threshold: float = GAP_THRESHOLD,
) -> Mix:
    """The mix of an area whose active businesses count ``here`` by category, against ``city``."""
    total, city_total = sum(here.values()), sum(city.values())
    lines = []
    for category in Category:
        count, city_count = here.get(category.value, 0), city.get(category.value, 0)
        share, city_share = _ratio(count, total), _ratio(city_count, city_total)
        quotient = share / city_share if share is not None and city_share else None
        lines.append(
            MixLine(
                category=category,
                count=count,
                share=None if share is None else round(share, 4),
                city_share=None if city_share is None else round(city_share, 4),
                city_count=city_count,
                quotient=None if quotient is None else round(quotient, 3),
                per_10000=round(count / population * PER_RESIDENTS, 2) if population else None,
                gap=quotient is not None and quotient < threshold,
            )
        )
    return Mix(total, city_total, population, threshold, tuple(lines), dict(sorted(stalls.items())))
