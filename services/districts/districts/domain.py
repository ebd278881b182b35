"""The city as this service sees it: projected businesses, markets, stalls and services, and KPIs.

Projections are built from events that may arrive twice or out of order. Every projected entity
keeps each of its fields as a last-writer-wins register ordered by the aggregate's ``version``, so
the same events applied in any order, any number of times, give the same entity. Openings and
closures are a set of movements keyed by the event that reported them, so they are counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

FieldValue = str | int | float | bool | list[float] | None


class EntityType(StrEnum):
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


class Kpis(BaseModel):
    """The numbers the office follows for a district or a NIL (fractions are 0-1)."""

    shops_active: int = 0
    historic_active: int = 0
    kiosks_active: int = 0
    services_by_type: dict[str, int] = Field(default_factory=dict)
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

    def comparable(self) -> dict[str, object]:
        """Everything but the time of computation: two equal results mean nothing moved."""
        return self.model_dump(exclude={"as_of"})


NUMERIC_KPIS = tuple(name for name in Kpis.model_fields if name not in {"services_by_type", "as_of", "population"})
