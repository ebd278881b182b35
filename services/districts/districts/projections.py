"""From events to entity changes, and from the entities of an area to its KPIs (pure functions).

Reading of the contract (docs/events.md):
- a business counts once it is ``active``; ``shops_active`` counts every kind (shop, historic,
  kiosk), ``historic_active`` and ``kiosks_active`` are the subsets;
- an opening is a status change to ``active``, or the registration of an active business founded
  in the year it was registered (importing the historic register or the kiosk list, whose founding
  years are old or unknown, does not count hundreds of openings);
  a closure is a status change to ``closed`` (a business registered already closed is history);
- stalls count in the district of their market, only while the market is active; occupancy is the
  share of stalls that are not vacant, as the markets service defines it;
- services count while offered by an active business. Service events carry no version: a removal
  is final, so it is ordered after the registration of the same service.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from districts.domain import (
    ACTIVE,
    ACTIVITY_WINDOW,
    CLOSED,
    STALL_OPEN,
    STALL_VACANT,
    Change,
    Entity,
    EntityType,
    FieldValue,
    Kpis,
    Movement,
    ShopKind,
    entity_id,
)
from districts.events import (
    CONSUMED,
    HistoricRecognised,
    Location,
    MarketRegistered,
    ServiceRegistered,
    ServiceRemoved,
    ShopRegistered,
    ShopStatusChanged,
    StallAssigned,
    StallCreated,
    StallEvent,
    StallReleased,
    StallStatusChanged,
)
from districts.geography import Locator, Placement
from shared.events import CloudEvent, EventData

SERVICE_REGISTERED_VERSION = 1
SERVICE_REMOVED_VERSION = 2


def _location(location: Location | None) -> list[float] | None:
    return [location.lon, location.lat] if location else None


def _nil_hint(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _shop_changes(payload: ShopRegistered, event: CloudEvent) -> list[Change]:
    values: dict[str, FieldValue] = {
        "kind": payload.kind,
        "status": payload.status,
        "location": _location(payload.location),
        "name": payload.name,
        "nil_hint": payload.id_nil if payload.id_nil is not None else _nil_hint(payload.nil),
        "year_founded": payload.year_founded,
    }
    movement = None
    at = payload.status_changed_at or event.time
    founded_now = payload.year_founded is not None and payload.year_founded >= at.year
    if event.type == ShopRegistered.event_type and payload.status == ACTIVE and founded_now:
        movement = Movement("registered", at, ACTIVE)
    return [Change(entity_id(EntityType.SHOP, payload.shop_id), EntityType.SHOP, payload.version, values, movement)]


def _shop_status_changes(payload: ShopStatusChanged, event: CloudEvent) -> list[Change]:
    values: dict[str, FieldValue] = {"status": payload.to}
    if payload.kind:
        values["kind"] = payload.kind
    movement = None
    if payload.to in (ACTIVE, CLOSED) and payload.from_ != payload.to:
        movement = Movement(f"v{payload.version}", payload.at or event.time, payload.to)
    return [Change(entity_id(EntityType.SHOP, payload.shop_id), EntityType.SHOP, payload.version, values, movement)]


def _recognised_changes(payload: HistoricRecognised) -> list[Change]:
    values: dict[str, FieldValue] = {"kind": ShopKind.HISTORIC.value}
    if payload.year_founded is not None:
        values["year_founded"] = payload.year_founded
    return [Change(entity_id(EntityType.SHOP, payload.shop_id), EntityType.SHOP, payload.version, values)]


def _service_changes(payload: ServiceRegistered | ServiceRemoved) -> list[Change]:
    target = entity_id(EntityType.SERVICE, payload.service_id)
    if isinstance(payload, ServiceRemoved):
        values: dict[str, FieldValue] = {"shop_id": payload.shop_id, "removed": True}
        return [Change(target, EntityType.SERVICE, SERVICE_REMOVED_VERSION, values)]
    values = {
        "shop_id": payload.shop_id,
        "service": payload.service,
        "weekly_minutes": payload.weekly_minutes,
        "evening_minutes": payload.evening_minutes,
        "weekend_minutes": payload.weekend_minutes,
        "removed": False,
    }
    return [Change(target, EntityType.SERVICE, SERVICE_REGISTERED_VERSION, values)]


def _market_changes(payload: MarketRegistered) -> list[Change]:
    values: dict[str, FieldValue] = {
        "location": _location(payload.location),
        "active": payload.active,
        "name": payload.name,
        "nil_hint": _nil_hint(payload.nil),
    }
    return [Change(entity_id(EntityType.MARKET, payload.market_id), EntityType.MARKET, payload.version, values)]


def _stall_changes(payload: StallEvent) -> list[Change]:
    values: dict[str, FieldValue] = {"market_id": payload.market_id}
    if isinstance(payload, StallStatusChanged):
        values["status"] = payload.to
    elif isinstance(payload, StallCreated | StallAssigned):
        values.update(status=payload.status, holder=payload.holder, category=payload.category)
    elif isinstance(payload, StallReleased):
        values.update(status=payload.status, holder=None)
    stall = entity_id(EntityType.STALL, f"{payload.market_id}/{payload.number}")
    return [Change(stall, EntityType.STALL, payload.version, values)]


def changes_of(event: CloudEvent) -> list[Change]:
    """The entity changes an event carries; none for a type this service does not follow.

    Raises pydantic's ``ValidationError`` for a followed type whose payload breaks the contract.
    """
    model = CONSUMED.get(event.type)
    if model is None:
        return []
    payload: EventData = event.payload(model)
    if isinstance(payload, ShopRegistered):
        return _shop_changes(payload, event)
    if isinstance(payload, ShopStatusChanged):
        return _shop_status_changes(payload, event)
    if isinstance(payload, HistoricRecognised):
        return _recognised_changes(payload)
    if isinstance(payload, ServiceRegistered | ServiceRemoved):
        return _service_changes(payload)
    if isinstance(payload, MarketRegistered):
        return _market_changes(payload)
    if isinstance(payload, StallEvent):
        return _stall_changes(payload)
    return []


# ---------------------------------------------------------------- areas and their KPIs


def district_key(code: str) -> str:
    return f"district:{code}"


def nil_key(nil_id: int) -> str:
    return f"nil:{nil_id}"


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
    """Count what is in an area; the vitality index is added by :mod:`districts.vitality`."""
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
    stalls = [s for s in contents.stalls if s.active]
    vacant = sum(s.text("status") == STALL_VACANT for s in stalls)
    by_type = Counter(s.text("service") or "unknown" for s in contents.services)
    kpis = Kpis(
        shops_active=len(active_shops),
        historic_active=sum(s.text("kind") == ShopKind.HISTORIC for s in active_shops),
        kiosks_active=sum(s.text("kind") == ShopKind.KIOSK for s in active_shops),
        services_by_type=dict(sorted(by_type.items())),
        services_total=len(contents.services),
        stalls_total=len(stalls),
        stalls_open=sum(s.text("status") == STALL_OPEN for s in stalls),
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
    """Where a business or market lies; without NIL polygons, the NIL its producer named."""
    location = entity.location
    found = locator.place(*location) if location else Placement((), None)
    return Placement(found.districts, found.nil if found.nil is not None else entity.nil_hint)


def parent_ids(entity: Entity) -> set[str]:
    """The market of a stall, the shop of a service: where their areas come from."""
    if entity.type is EntityType.STALL and entity.text("market_id"):
        return {entity_id(EntityType.MARKET, entity.text("market_id") or "")}
    if entity.type is EntityType.SERVICE and entity.text("shop_id"):
        return {entity_id(EntityType.SHOP, entity.text("shop_id") or "")}
    return set()
