"""Area KPIs kept incrementally: each area holds a tally that every projected change moves by a delta.

Why a tally and not the KPIs themselves: most KPIs are sums over the entities an area holds
(active businesses by kind, services by type, stalls by status, service minutes), but two depend on
the time they are read at: stalls handed out at a spunta count as open on that day only, and
openings and closures count for 30 days. So an area keeps what does not depend on time, and the
KPIs are read from it at any moment (:func:`measure_tally`):

- counts by name: ``shops_active``, ``historic_active``, ``kiosks_active``, ``historic_known``,
  ``services``, ``service:<type>``, the three kinds of service minutes, ``stall:<status>``, and
  ``spunta:<day>:<status>`` for a vacant or closed stall handed out at the spunta of ``day``;
- the movements (openings and closures) of its businesses, each keyed by business and movement,
  with the time and whether the business is historic; those older than the activity window are
  dropped when the tally is written, since they can never count again.

An entity adds one :func:`entity_tally` to each area it counts in (:func:`counted_in`): a
business in its areas, a stall in those of its market while the market operates, a service in
those of its business while both are active. An area's tally is the sum over its entities, so it
is a function of the projected state alone. The consumer, in the transaction that stores the
entities and the processed event ids, subtracts what the changed entities (and the stalls or
services of a changed market or business) added before and adds what they add now
(:func:`deltas`). A duplicate changes no entity, so it moves nothing; events out of order give the
same entities (field versions) and so the same tallies. A tally that drifted (a bug, a race the
revision bumps of ``AreaCounter`` do not cover) is found and replaced by the full recount from
the entities, which stays the check and the rebuild path (:func:`tally_of` over
:func:`~districts.projection.domain.group_by_area`, compared with
:func:`~districts.projection.domain.measure`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from districts.projection.domain import (
    ACTIVE,
    ACTIVITY_WINDOW,
    CLOSED,
    SPUNTA_DAY,
    STALL_CLOSED,
    STALL_OPEN,
    STALL_VACANT,
    AreaContents,
    Entity,
    EntityType,
    Kpis,
    Measures,
    ShopKind,
    area_keys_of,
    market_day,
    parent_ids,
)

MINUTES = ("weekly_minutes", "evening_minutes", "weekend_minutes")
SPUNTA_STATUSES = (STALL_VACANT, STALL_CLOSED)


@dataclass(frozen=True)
class Move:
    """An opening or closure of a business, as its areas count it."""

    at: datetime
    to: str
    historic: bool


@dataclass
class Tally:
    """What an area (or one entity's share of it) holds, independent of the time it is read at."""

    counts: Counter[str] = field(default_factory=Counter)
    moves: dict[str, Move] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.moves.update(other.moves)

    def subtract(self, other: Tally) -> None:
        self.counts.subtract(other.counts)
        for key in other.moves:
            self.moves.pop(key, None)

    def pruned(self, now: datetime) -> Tally:
        """Without zero counts and without movements too old to count ever again."""
        since = now - ACTIVITY_WINDOW
        return Tally(
            Counter({name: n for name, n in self.counts.items() if n}),
            {key: move for key, move in self.moves.items() if move.at > since},
        )


@dataclass
class Delta:
    """What an area loses (the entities' former shares) and gains (their shares now)."""

    lost: Tally = field(default_factory=Tally)
    gained: Tally = field(default_factory=Tally)

    def applied_to(self, tally: Tally) -> Tally:
        """Lost shares first: a movement kept but reclassified (a business became historic) is replaced."""
        result = Tally(Counter(tally.counts), dict(tally.moves))
        result.subtract(self.lost)
        result.add(self.gained)
        return result


def _stall_tally(stall: Entity) -> Tally:
    status = stall.fields.get("status")
    if "status" not in stall.fields:
        return Tally()
    counts = Counter({f"stall:{status}": 1})
    day = stall.text(SPUNTA_DAY)
    if status in SPUNTA_STATUSES and day:
        counts[f"spunta:{day}:{status}"] = 1
    return Tally(counts)


def _service_tally(service: Entity) -> Tally:
    counts = Counter({"services": 1, f"service:{service.text('service') or 'unknown'}": 1})
    counts.update({name: service.count(name) for name in MINUTES})
    return Tally(counts)


def _shop_tally(shop: Entity) -> Tally:
    kind, active = shop.text("kind"), shop.active
    counts = Counter(
        {
            "shops_active": int(active),
            "historic_active": int(active and kind == ShopKind.HISTORIC),
            "kiosks_active": int(active and kind == ShopKind.KIOSK),
            "historic_known": int(kind == ShopKind.HISTORIC),
        }
    )
    historic = kind == ShopKind.HISTORIC
    moves = {f"{shop.id}|{m.key}": Move(m.at, m.to, historic) for m in shop.movements.values()}
    return Tally(counts, moves)


def entity_tally(entity: Entity) -> Tally:
    """What one entity adds to each area it counts in."""
    if entity.type is EntityType.SHOP:
        return _shop_tally(entity)
    if entity.type is EntityType.STALL:
        return _stall_tally(entity)
    if entity.type is EntityType.SERVICE:
        return _service_tally(entity)
    return Tally()


def counted_in(entity: Entity, parent: Entity | None) -> set[str]:
    """The areas an entity counts in: a business its own; a stall or a service those of its market or
    business (``parent``) while that operates, a service only while offered."""
    if entity.type is EntityType.SHOP:
        return area_keys_of(entity)
    if entity.type is EntityType.STALL or (entity.type is EntityType.SERVICE and entity.active):
        return area_keys_of(parent) if parent is not None and parent.active else set()
    return set()


def parent_id(entity: Entity) -> str | None:
    return next(iter(parent_ids(entity)), None)


def deltas(before: Mapping[str, Entity], after: Mapping[str, Entity], contributors: Iterable[str]) -> dict[str, Delta]:
    """The delta of each area from the entities ``contributors`` name, as they were (``before``: absent
    if new) and as they are (``after``); both maps also hold the parents (markets, businesses) of
    those entities, unchanged ones in both."""
    found: dict[str, Delta] = {}
    for key in contributors:
        for states, gained in ((before, False), (after, True)):
            entity = states.get(key)
            if entity is None:
                continue
            parent = states.get(parent_id(entity) or "")
            share = entity_tally(entity)
            for area in counted_in(entity, parent):
                delta = found.setdefault(area, Delta())
                (delta.gained if gained else delta.lost).add(share)
    return found


def tally_of(contents: AreaContents) -> Tally:
    """The full recount of an area from its contents (as :func:`~districts.projection.domain.group_by_area`
    finds them): the rebuild path, and the check of the incremental tallies."""
    total = Tally()
    for shop in contents.shops:
        total.add(_shop_tally(shop))
    for stall in contents.stalls:
        total.add(_stall_tally(stall))
    for service in contents.services:
        total.add(_service_tally(service))
    return total


def _spunta_open(counts: Mapping[str, int], day: date, status: str) -> int:
    return counts.get(f"spunta:{day.isoformat()}:{status}", 0)


def measure_tally(tally: Tally, population: int | None, now: datetime) -> Measures:
    """The KPIs of an area at ``now`` from its tally: what :func:`~districts.projection.domain.measure`
    gives from its contents."""
    counts = tally.counts
    today, since = market_day(now), now - ACTIVITY_WINDOW
    stalls = {name.removeprefix("stall:"): n for name, n in counts.items() if name.startswith("stall:")}
    total = sum(stalls.values())
    handed_vacant = _spunta_open(counts, today, STALL_VACANT)
    handed_closed = _spunta_open(counts, today, STALL_CLOSED)
    vacant = stalls.get(STALL_VACANT, 0) - handed_vacant
    by_type = {name.removeprefix("service:"): n for name, n in counts.items() if name.startswith("service:") and n}
    window = [move for move in tally.moves.values() if since < move.at <= now]
    closures = [move for move in window if move.to == CLOSED]
    kpis = Kpis(
        shops_active=counts.get("shops_active", 0),
        historic_active=counts.get("historic_active", 0),
        kiosks_active=counts.get("kiosks_active", 0),
        services_by_type=dict(sorted(by_type.items())),
        services_total=counts.get("services", 0),
        stalls_total=total,
        stalls_open=stalls.get(STALL_OPEN, 0) + handed_vacant + handed_closed,
        stalls_vacant=vacant,
        stall_occupancy=round((total - vacant) / total, 4) if total else None,
        openings_30d=sum(move.to == ACTIVE for move in window),
        closures_30d=len(closures),
        historic_closures_30d=sum(move.historic for move in closures),
        population=population,
    )
    return Measures(
        kpis=kpis,
        historic_known=counts.get("historic_known", 0),
        weekly_minutes=counts.get("weekly_minutes", 0),
        evening_minutes=counts.get("evening_minutes", 0),
        weekend_minutes=counts.get("weekend_minutes", 0),
    )
