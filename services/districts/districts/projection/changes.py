"""What each consumed event changes in the projected entities (the reading of the producers' contracts).

Reading of the contract (docs/events.md):
- a business counts once it is ``active``; ``shops_active`` counts every kind (shop, historic,
  kiosk), ``historic_active`` and ``kiosks_active`` are the subsets;
- an opening is a status change to ``active``, or the registration of an active business founded
  in the year it was registered (importing the historic register or the kiosk list, whose founding
  years are old or unknown, does not count hundreds of openings);
  a closure is a status change to ``closed`` (a business registered already closed is history);
- stalls count in the district of their market, only while the market is active; occupancy is the
  share of stalls that are not vacant, as the markets service defines it;
- a stall handed out at a market day's spunta (``markets.spunta.assigned.v1``) is open on that
  day (Europe/Rome) if it was vacant or its holder absent (closed): it leaves ``stalls_vacant``
  and joins ``stalls_open`` for that day only. The event carries no version and a market day is
  assigned once, so each stall keeps the latest day it was handed out, versioned by the day;
- a concession revoked or expired (``markets.concession.revoked.v1``, ``….expired.v1``) frees its
  stall as a release does (vacant, no holder); a transfer changes only the stall's holder. These
  events carry the stall's version, so they are ordered with the stall's other events;
- services count while offered by an active business. Service events carry no version: a removal
  is final, so it is ordered after the registration of the same service.
"""

from __future__ import annotations

from districts.projection.domain import (
    ACTIVE,
    CLOSED,
    SPUNTA_DAY,
    Change,
    EntityType,
    FieldValue,
    Movement,
    ShopKind,
    entity_id,
    spunta_version,
)
from districts.projection.events import (
    CONSUMED,
    ConcessionEnded,
    ConcessionTransferred,
    HistoricRecognised,
    Location,
    MarketRegistered,
    ServiceRegistered,
    ServiceRemoved,
    ServiceUpdated,
    ShopRegistered,
    ShopStatusChanged,
    SpuntaAssigned,
    StallAssigned,
    StallCreated,
    StallEvent,
    StallReleased,
    StallStatusChanged,
)
from shared.categories import category_of_trade
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


def _nil_fields(number: int | None, nil: object) -> dict[str, FieldValue]:
    """The NIL a producer named: its number when known, otherwise its name ("LODI - CORVETTO")."""
    hint = number if number is not None else _nil_hint(nil)
    named = nil.strip() if hint is None and isinstance(nil, str) and nil.strip() else None
    return {"nil_hint": hint, "nil_name": named}


def _shop_changes(payload: ShopRegistered, event: CloudEvent) -> list[Change]:
    values: dict[str, FieldValue] = {
        "kind": payload.kind,
        "status": payload.status,
        "location": _location(payload.location),
        "name": payload.name,
        **_nil_fields(payload.id_nil, payload.nil),
        "year_founded": payload.year_founded,
        "category": (payload.category or category_of_trade(payload.trade, kiosk=payload.kind == "kiosk")).value,
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
    """A service's fields as last-writer-wins registers: registration is version 1, each change of
    hours the offer's own version (2, 3, …), and removal sets only ``removed``, which no change of
    hours touches, so hours arriving after a removal cannot bring the service back."""
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
    }
    if isinstance(payload, ServiceUpdated):
        return [Change(target, EntityType.SERVICE, payload.version, values)]
    values["removed"] = False
    return [Change(target, EntityType.SERVICE, SERVICE_REGISTERED_VERSION, values)]


def _market_changes(payload: MarketRegistered) -> list[Change]:
    values: dict[str, FieldValue] = {
        "location": _location(payload.location),
        "active": payload.active,
        "name": payload.name,
        **_nil_fields(None, payload.nil),
    }
    return [Change(entity_id(EntityType.MARKET, payload.market_id), EntityType.MARKET, payload.version, values)]


def _stall_changes(payload: StallEvent) -> list[Change]:
    values: dict[str, FieldValue] = {"market_id": payload.market_id}
    if isinstance(payload, StallStatusChanged):
        values["status"] = payload.to
    elif isinstance(payload, StallCreated | StallAssigned):
        values.update(status=payload.status, holder=payload.holder, category=payload.category)
    elif isinstance(payload, StallReleased | ConcessionEnded):
        values.update(status=payload.status, holder=None)
    elif isinstance(payload, ConcessionTransferred):
        values.update(status=payload.status, holder=payload.holder)
    stall = entity_id(EntityType.STALL, f"{payload.market_id}/{payload.number}")
    return [Change(stall, EntityType.STALL, payload.version, values)]


def _spunta_changes(payload: SpuntaAssigned) -> list[Change]:
    """The day on each stall handed out; the stall's market and status come from its own events."""
    day: dict[str, FieldValue] = {SPUNTA_DAY: payload.date.isoformat()}
    version = spunta_version(payload.date)
    return [
        Change(entity_id(EntityType.STALL, f"{payload.market_id}/{a.stall}"), EntityType.STALL, version, day)
        for a in payload.assignments
    ]


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
    if isinstance(payload, SpuntaAssigned):
        return _spunta_changes(payload)
    return []
