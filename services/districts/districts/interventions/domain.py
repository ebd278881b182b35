"""Interventions of the office and their impact: before/after means and difference-in-differences.

Pure: the series come in as ``(at, value)`` samples, the figures go out as plain dataclasses.

The impact of an intervention started at ``s`` on a metric, over a window of ``d`` days:

- *before* is the mean of the samples taken in ``[s - d, s)``, *after* the mean of those in
  ``[s, s + d)``; each sample counts once, samples without a value are left out, and the number of
  samples behind each mean is reported;
- the *change* of an area is ``after - before``;
- the comparison group's before and after are the means of its areas' means (each area weighs
  the same, whatever its number of samples); only areas with samples on both sides take part;
- the difference-in-differences estimate is ``change(target) - change(comparison)``: what moved
  in the target beyond what moved in comparable areas over the same days.

When the office names no comparison group, the areas whose mean before the start is closest to the
target's are chosen (:func:`most_similar`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from districts.projection.labels import kpi_label
from shared.errors import InvalidInput
from shared.i18n import Said

Samples = Sequence[tuple[datetime, float | None]]
CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
COMPARISON_SIZE = 3
LONGEST_WINDOW_DAYS = 92


class Kind(StrEnum):
    MARKET_REGENERATION = "market_regeneration"
    NEW_SERVICES = "new_services"
    EVENTS = "events"
    OTHER = "other"


class TargetType(StrEnum):
    DISTRICT = "district"
    NIL = "nil"
    MARKET = "market"


@dataclass(frozen=True)
class Target:
    type: TargetType
    id: str


@dataclass(frozen=True)
class Intervention:
    code: str
    title: str
    kind: Kind
    target: Target
    started_at: datetime
    comparison: tuple[str, ...]
    created_at: datetime


def new_intervention(
    code: str,
    title: str,
    kind: Kind,
    target: Target,
    started_at: datetime,
    comparison: Iterable[str],
    now: datetime,
) -> Intervention:
    """Check what the office sent: a slug code, a title, a comparison group not holding the target."""
    if not CODE.match(code):
        raise InvalidInput(
            "body.code",
            Said(
                "uno slug: lettere minuscole, cifre e '-', al massimo 64 caratteri",
                "a slug: lower-case letters, digits and '-', at most 64 characters",
            ),
        )
    if not title.strip():
        raise InvalidInput("body.title", Said("non può essere vuoto", "must not be blank"))
    if target.type is TargetType.NIL and not target.id.isdigit():
        raise InvalidInput("body.target.id", Said("un NIL si indica con il suo numero", "a NIL is named by its number"))
    group = tuple(dict.fromkeys(comparison))
    if target.type is TargetType.DISTRICT and target.id in group:
        raise InvalidInput(
            "body.comparison",
            Said("l'obiettivo non può fare da confronto a sé stesso", "the target cannot be its own comparison"),
        )
    return Intervention(code, title.strip(), kind, target, started_at, group, now)


@dataclass(frozen=True)
class Mean:
    """The mean of a window and the number of samples behind it (None without samples)."""

    value: float | None
    observations: int


def _difference(later: float | None, earlier: float | None) -> float | None:
    """``later - earlier``, unknown when either side is."""
    return None if later is None or earlier is None else later - earlier


@dataclass(frozen=True)
class Shift:
    before: Mean
    after: Mean

    @property
    def change(self) -> float | None:
        return _difference(self.after.value, self.before.value)


@dataclass(frozen=True)
class Windows:
    before_from: datetime
    start: datetime
    after_to: datetime


def windows(start: datetime, window_days: int) -> Windows:
    if not 1 <= window_days <= LONGEST_WINDOW_DAYS:
        raise InvalidInput(
            "query.window_days", Said(f"da 1 a {LONGEST_WINDOW_DAYS} giorni", f"from 1 to {LONGEST_WINDOW_DAYS} days")
        )
    span = timedelta(days=window_days)
    return Windows(start - span, start, start + span)


def mean(samples: Samples, start: datetime, end: datetime) -> Mean:
    """The mean of the values sampled in ``[start, end)``."""
    values = [v for at, v in samples if start <= at < end and v is not None]
    return Mean(sum(values) / len(values) if values else None, len(values))


def shift(samples: Samples, w: Windows) -> Shift:
    return Shift(mean(samples, w.before_from, w.start), mean(samples, w.start, w.after_to))


def group_shift(series: Mapping[str, Samples], w: Windows) -> tuple[Shift, tuple[str, ...]]:
    """The comparison group's shift (mean of its areas' means) and the areas that took part."""
    shifts = {code: shift(samples, w) for code, samples in series.items()}
    used = tuple(sorted(c for c, s in shifts.items() if s.change is not None))
    if not used:
        return Shift(Mean(None, 0), Mean(None, 0)), ()

    def pooled(side: str) -> Mean:
        means = [getattr(shifts[c], side) for c in used]
        return Mean(sum(m.value for m in means) / len(means), sum(m.observations for m in means))

    return Shift(pooled("before"), pooled("after")), used


def most_similar(
    levels: Mapping[str, float | None], level: float | None, size: int = COMPARISON_SIZE
) -> tuple[str, ...]:
    """The ``size`` areas whose level before the start is closest to the target's (ties by code)."""
    if level is None:
        return ()
    known = [(abs(v - level), code) for code, v in levels.items() if v is not None]
    return tuple(code for _, code in sorted(known)[:size])


@dataclass(frozen=True)
class Impact:
    metric: str
    window_days: int
    windows: Windows
    area: str
    target: Shift
    comparison: Shift
    comparison_areas: tuple[str, ...]
    chosen_automatically: bool
    # what people call the target's area and the comparison areas (the codes when not known)
    area_name: str = ""
    comparison_names: tuple[str, ...] = ()

    @property
    def estimate(self) -> float | None:
        """Difference-in-differences: the target's change beyond the comparison group's."""
        return _difference(self.target.change, self.comparison.change)


def impact(
    metric: str,
    window_days: int,
    w: Windows,
    area: str,
    target: Samples,
    comparison: Mapping[str, Samples],
    chosen_automatically: bool,
    names: Mapping[str, str] | None = None,
) -> Impact:
    """``names``: what the target's area key and the comparison codes are called, where known."""
    group, used = group_shift(comparison, w)
    named = names or {}
    return Impact(
        metric,
        window_days,
        w,
        area,
        shift(target, w),
        group,
        used,
        chosen_automatically,
        named.get(area, area),
        tuple(named.get(code, code) for code in used),
    )


@dataclass(frozen=True)
class _Wording:
    """The sentences of a result in one language, as ``str.format`` templates, and how its numbers read."""

    decimal_mark: str
    unknown: str
    no_samples: str
    moved: str
    no_comparison: str
    chosen: str
    named: str
    compared: str


_WORDING = {
    "en": _Wording(
        decimal_mark=".",
        unknown="n/a",
        no_samples="For '{title}' there are not yet samples of “{metric}” on both sides of the start "
        "({before} before, {after} after): no estimate.",
        moved="In the {days} days after '{title}' started, “{metric}” in {area} went from {before} to {after} "
        "({change}).",
        no_comparison=" No comparison area has samples on both sides, so no difference-in-differences.",
        chosen="chosen automatically as the most similar before the start",
        named="named",
        compared=" Over the same days the comparison areas ({areas}; {how}) moved by {change}: "
        "the estimated effect is {estimate}.",
    ),
    "it": _Wording(
        decimal_mark=",",
        unknown="n.d.",
        no_samples="Per '{title}' non ci sono ancora rilevazioni dell'indicatore «{metric}» prima e dopo l'avvio "
        "({before} prima, {after} dopo): nessuna stima.",
        moved="Nei {days} giorni dopo l'avvio di '{title}', l'indicatore «{metric}» in {area} è passato da {before} a {after} "
        "({change}).",
        no_comparison=" Nessuna area di confronto ha rilevazioni prima e dopo: nessuna differenza nelle differenze.",
        chosen="scelte automaticamente come le più simili prima dell'avvio",
        named="indicate",
        compared=" Negli stessi giorni le aree di confronto ({areas}; {how}) sono variate di {change}: "
        "l'effetto stimato è {estimate}.",
    ),
}


def _number(value: float | None, words: _Wording) -> str:
    """At most two decimals, written with the language's decimal mark (1.5 in English, 1,5 in Italian)."""
    if value is None:
        return words.unknown
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text).replace(".", words.decimal_mark)


def sentence(intervention: Intervention, result: Impact, language: str) -> str:
    """The result in plain words, Italian (``it``) or English (``en``)."""
    words, t, est = _WORDING["en" if language == "en" else "it"], result.target, result.estimate
    metric = kpi_label(result.metric, language)
    if t.change is None:
        return words.no_samples.format(
            title=intervention.title, metric=metric, before=t.before.observations, after=t.after.observations
        )
    text = words.moved.format(
        days=result.window_days,
        title=intervention.title,
        metric=metric,
        area=result.area_name or result.area,
        before=_number(t.before.value, words),
        after=_number(t.after.value, words),
        change=_number(t.change, words),
    )
    if est is None:
        return text + words.no_comparison
    return text + words.compared.format(
        areas=", ".join(result.comparison_names or result.comparison_areas),
        how=words.chosen if result.chosen_automatically else words.named,
        change=_number(result.comparison.change, words),
        estimate=_number(est, words),
    )
