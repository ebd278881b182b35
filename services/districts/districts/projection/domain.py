"""The city as this service sees it: projected businesses, markets, stalls and services, and KPIs.

Projections are built from events that may arrive twice or out of order. Every projected entity
keeps each of its fields as a last-writer-wins register ordered by the aggregate's ``version``, so
the same events applied in any order, any number of times, give the same entity. Openings and
closures are a set of movements keyed by the event that reported them, so they are counted once.

A stall handed out at a market day's spunta keeps that day in its ``spunta_day`` field, whose
version is the day itself: a later day's spunta replaces an earlier one whatever order they
arrive in, and the same spunta twice changes nothing. The KPIs of a day count such a stall as
open on that day only (:func:`counted_status`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from districts.geography.domain import Locator, Placement
from shared.i18n import Said

FieldValue = str | int | float | bool | list[float] | None


class EntityType(StrEnum):
    """What a projected entity is: its id is ``<type>:<ref>``."""

    SHOP = "shop"
    MARKET = "market"
    STALL = "stall"
    SERVICE = "service"


class ShopKind(StrEnum):
    HISTORIC = "historic"
    KIOSK = "kiosk"
    SHOP = "shop"


ACTIVE = "active"
CLOSED = "closed"
STALL_OPEN = "open"
STALL_VACANT = "vacant"
STALL_CLOSED = "closed"
SPUNTA_DAY = "spunta_day"
ROME = ZoneInfo("Europe/Rome")
ACTIVITY_WINDOW = timedelta(days=30)


def entity_id(kind: EntityType, ref: str) -> str:
    return f"{kind.value}:{ref}"


@dataclass(frozen=True)
class Movement:
    """A business that became active (an opening) or closed (a closure) at ``at``."""

    key: str
    at: datetime
    to: str

    @property
    def is_opening(self) -> bool:
        return self.to == ACTIVE

    @property
    def is_closure(self) -> bool:
        return self.to == CLOSED


@dataclass(frozen=True)
class Change:
    """What one event says about one entity: field values as of ``version``, maybe a movement."""

    entity_id: str
    type: EntityType
    version: int
    values: Mapping[str, FieldValue]
    movement: Movement | None = None


@dataclass
class Entity:
    id: str
    type: EntityType
    fields: dict[str, FieldValue] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    movements: dict[str, Movement] = field(default_factory=dict)
    districts: tuple[str, ...] = ()
    nil: int | None = None

    @property
    def ref(self) -> str:
        return self.id.split(":", 1)[1]

    def copy(self) -> Entity:
        """A copy that changes merged into this entity leave as it was."""
        return replace(self, fields=dict(self.fields), versions=dict(self.versions), movements=dict(self.movements))

    def apply(self, change: Change) -> bool:
        """Merge a change; True if anything (a value, a version, a movement) was new."""
        updated = False
        for name, value in change.values.items():
            if change.version > self.versions.get(name, 0):
                self.fields[name] = value
                self.versions[name] = change.version
                updated = True
        movement = change.movement
        if movement is not None and movement.key not in self.movements:
            self.movements[movement.key] = movement
            updated = True
        return updated

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if isinstance(value, str) else None

    def count(self, name: str) -> int:
        value = self.fields.get(name)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    @property
    def location(self) -> tuple[float, float] | None:
        value = self.fields.get("location")
        if isinstance(value, list) and len(value) == 2:
            return value[0], value[1]
        return None

    @property
    def nil_hint(self) -> int | None:
        value = self.fields.get("nil_hint")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def nil_name(self) -> str | None:
        """The NIL its producer named in words (the markets service names a market's NIL, not its number)."""
        return self.text("nil_name")

    @property
    def is_placeable(self) -> bool:
        return self.type in (EntityType.SHOP, EntityType.MARKET)

    @property
    def active(self) -> bool:
        """An open business, an operating market, an offered service, or any known stall."""
        if self.type is EntityType.SHOP:
            return self.fields.get("status") == ACTIVE
        if self.type is EntityType.MARKET:
            return self.fields.get("active") is not False
        if self.type is EntityType.SERVICE:
            return self.fields.get("removed") is False
        return "status" in self.fields


@dataclass(frozen=True)
class ProjectionState:
    """The generation serving reads, the one being rebuilt (if any), and the geography version."""

    active: int = 1
    building: int | None = None
    geography: int = 0

    @property
    def generations(self) -> tuple[int, ...]:
        """Where projected events go: the active generation and the one being rebuilt."""
        return (self.active,) if self.building is None else (self.active, self.building)


@dataclass(frozen=True)
class StoredEntity:
    """An entity with its revision (bumped by every write) and the geography it was placed on."""

    entity: Entity
    rev: int
    geography: int


@dataclass(frozen=True)
class Series:
    """The samples of one KPI of an area between ``start`` and ``end`` (``None``: not measurable then)."""

    metric: str
    start: datetime
    end: datetime
    samples: list[tuple[datetime, float | None]]


@dataclass(frozen=True)
class Kpis:
    """The numbers the office follows for a district or a NIL (fractions are 0-1)."""

    shops_active: int = 0
    historic_active: int = 0
    kiosks_active: int = 0
    services_by_type: Mapping[str, int] = field(default_factory=dict)
    services_total: int = 0
    stalls_total: int = 0
    stalls_open: int = 0
    stalls_vacant: int = 0
    stall_occupancy: float | None = None
    openings_30d: int = 0
    closures_30d: int = 0
    historic_closures_30d: int = 0
    population: int | None = None
    vitality_index: float | None = None
    as_of: datetime | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Kpis:
        """KPIs from stored values; a name this version does not know is ignored."""
        return cls(**{name: values[name] for name in KPI_NAMES if name in values})

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in KPI_NAMES}

    def same_figures(self, other: Kpis) -> bool:
        """Equal in everything but the time of computation: nothing moved."""
        return replace(self, as_of=None) == replace(other, as_of=None)


KPI_NAMES = tuple(f.name for f in fields(Kpis))
NUMERIC_KPIS = tuple(name for name in KPI_NAMES if name not in {"services_by_type", "as_of", "population"})


def unknown_metric() -> Said:
    """The refusal of a metric that is not one of :data:`NUMERIC_KPIS`."""
    names = ", ".join(NUMERIC_KPIS)
    return Said(f"metrica sconosciuta; una tra {names}", f"unknown metric; one of {names}")


# ---------------------------------------------------------------- areas and their KPIs


def market_day(at: datetime) -> date:
    """The calendar day in Milan at ``at``: the day a spunta is held and counted for."""
    return at.astimezone(ROME).date()


def spunta_version(day: date) -> int:
    """The version of a stall's ``spunta_day`` set by the spunta of ``day``: later days win."""
    return day.toordinal()


def counted_status(stall: Entity, day: date) -> str | None:
    """A stall's status as the KPIs of ``day`` count it.

    A stall handed out at that day's spunta is open for the day when it is vacant (no holder) or
    closed (its holder did not come); its status is unchanged otherwise (open already, or in
    maintenance, which the spunta never offers), and on any other day.
    """
    status = stall.text("status")
    if status in (STALL_VACANT, STALL_CLOSED) and stall.text(SPUNTA_DAY) == day.isoformat():
        return STALL_OPEN
    return status


def district_key(code: str) -> str:
    return f"district:{code}"


def nil_key(nil_id: int) -> str:
    return f"nil:{nil_id}"


def area_of(key: str) -> tuple[str | None, int | None]:
    """The district code or the NIL id an area key names."""
    kind, _, ref = key.partition(":")
    return (ref, None) if kind == "district" else (None, int(ref))


@dataclass
class AreaContents:
    shops: list[Entity] = field(default_factory=list)
    markets: list[Entity] = field(default_factory=list)
    stalls: list[Entity] = field(default_factory=list)
    services: list[Entity] = field(default_factory=list)


@dataclass(frozen=True)
class Measures:
    """The KPIs of an area and the extra counts its vitality index is built from."""

    kpis: Kpis
    historic_known: int
    weekly_minutes: int
    evening_minutes: int
    weekend_minutes: int


def placement_keys(placement: Placement) -> set[str]:
    keys = {district_key(code) for code in placement.districts}
    if placement.nil is not None:
        keys.add(nil_key(placement.nil))
    return keys


def area_keys_of(entity: Entity) -> set[str]:
    return placement_keys(Placement(entity.districts, entity.nil))


def group_by_area(
    placed: Iterable[Entity], stalls: Iterable[Entity], services: Iterable[Entity], keys: Iterable[str]
) -> dict[str, AreaContents]:
    """Contents of each wanted area: businesses and markets by placement, stalls and services by parent."""
    areas = {key: AreaContents() for key in keys}
    market_areas: dict[str, set[str]] = defaultdict(set)
    shop_areas: dict[str, set[str]] = defaultdict(set)
    for entity in placed:
        for key in area_keys_of(entity) & areas.keys():
            if entity.type is EntityType.SHOP:
                areas[key].shops.append(entity)
                if entity.active:
                    shop_areas[entity.ref].add(key)
            elif entity.type is EntityType.MARKET:
                areas[key].markets.append(entity)
                if entity.active:
                    market_areas[entity.ref].add(key)
    for stall in stalls:
        for key in market_areas.get(stall.text("market_id") or "", ()):
            areas[key].stalls.append(stall)
    for service in services:
        if service.active:
            for key in shop_areas.get(service.text("shop_id") or "", ()):
                areas[key].services.append(service)
    return areas


def measure(contents: AreaContents, population: int | None, now: datetime) -> Measures:
    """Count what is in an area; the vitality index is added by :mod:`districts.projection.vitality`."""
    since = now - ACTIVITY_WINDOW
    active_shops = [s for s in contents.shops if s.active]
    historic = [s for s in contents.shops if s.text("kind") == ShopKind.HISTORIC]
    openings = closures = historic_closures = 0
    for shop in contents.shops:
        for movement in shop.movements.values():
            if not since < movement.at <= now:
                continue
            openings += movement.is_opening
            closures += movement.is_closure
            historic_closures += movement.is_closure and shop.text("kind") == ShopKind.HISTORIC
    today = market_day(now)
    stalls = [counted_status(s, today) for s in contents.stalls if s.active]
    vacant = stalls.count(STALL_VACANT)
    by_type = Counter(s.text("service") or "unknown" for s in contents.services)
    kpis = Kpis(
        shops_active=len(active_shops),
        historic_active=sum(s.text("kind") == ShopKind.HISTORIC for s in active_shops),
        kiosks_active=sum(s.text("kind") == ShopKind.KIOSK for s in active_shops),
        services_by_type=dict(sorted(by_type.items())),
        services_total=len(contents.services),
        stalls_total=len(stalls),
        stalls_open=stalls.count(STALL_OPEN),
        stalls_vacant=vacant,
        stall_occupancy=round((len(stalls) - vacant) / len(stalls), 4) if stalls else None,
        openings_30d=openings,
        closures_30d=closures,
        historic_closures_30d=historic_closures,
        population=population,
    )
    return Measures(
        kpis=kpis,
        historic_known=len(historic),
        weekly_minutes=sum(s.count("weekly_minutes") for s in contents.services),
        evening_minutes=sum(s.count("evening_minutes") for s in contents.services),
        weekend_minutes=sum(s.count("weekend_minutes") for s in contents.services),
    )


def placement_of(entity: Entity, locator: Locator) -> Placement:
    """Where a business or market lies; outside the NIL polygons, the NIL its producer named (by
    number, or by name when the geography has a NIL of that name)."""
    location = entity.location
    found = locator.place(*location) if location else Placement((), None)
    if found.nil is not None or entity.nil_hint is not None:
        return Placement(found.districts, found.nil if found.nil is not None else entity.nil_hint)
    named = entity.nil_name
    return Placement(found.districts, locator.nil_named(named) if named else None)


def moved_to(entity: Entity, placement: Placement) -> bool:
    return placement.districts != entity.districts or placement.nil != entity.nil


def parent_ids(entity: Entity) -> set[str]:
    """The market of a stall, the shop of a service: where their areas come from."""
    if entity.type is EntityType.STALL and entity.text("market_id"):
        return {entity_id(EntityType.MARKET, entity.text("market_id") or "")}
    if entity.type is EntityType.SERVICE and entity.text("shop_id"):
        return {entity_id(EntityType.SHOP, entity.text("shop_id") or "")}
    return set()


def active_refs(entities: Iterable[Entity], kind: EntityType) -> set[str]:
    return {e.ref for e in entities if e.type is kind and e.active}
