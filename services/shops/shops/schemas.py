"""Request and response bodies of the shops API (shapes in docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from shops.catalogue import CatalogueEntry
from shops.domain import (
    SHOP_ID_PATTERN,
    Location,
    Offer,
    OpeningInterval,
    RecognitionState,
    Registry,
    Shop,
    ShopKind,
    ShopStatus,
    Source,
    Value,
)
from shops.nearest import Nearby

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ShopPut(Registry):
    """A shop's full registry state and status; creates the shop or brings it to this state."""

    status: ShopStatus = ShopStatus.ACTIVE


class ShopCreate(ShopPut):
    id: str | None = Field(
        default=None,
        pattern=SHOP_ID_PATTERN,
        description="lower-case slug; generated from the name when omitted",
        examples=["ed-demo-isola"],
    )


class ShopPatch(Value):
    """Registry fields to change; the kind changes by recognition or by a full PUT."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    trade: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=200)
    cap: str | None = Field(default=None, pattern=r"^\d{5}$")
    municipio: int | None = Field(default=None, ge=1, le=9)
    nil: str | None = Field(default=None, max_length=120)
    id_nil: int | None = Field(default=None, ge=1, le=999)
    location: Location | None = None
    year_founded: int | None = Field(default=None, ge=1000, le=2999)

    @field_validator("name", "trade", "address", "location")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Omit a field to keep it; these cannot be emptied with null (the others can)."""
        if value is None:
            raise ValueError("cannot be null")
        return value


class StatusChange(Value):
    status: ShopStatus
    note: str | None = Field(default=None, max_length=500)
    at: AwareDatetime | None = Field(default=None, description="when it happened; now when omitted")

    @field_validator("at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        try:
            return value.astimezone(UTC) if value else None
        except OverflowError as exc:
            raise ValueError("outside the calendar") from exc


class Decision(Value):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=1000)


class OfferCreate(Value):
    service: str = Field(max_length=60, examples=["ritiro_pacchi"])
    hours: list[OpeningInterval] = Field(max_length=50)
    note: str = Field(default="", max_length=500)


class ShopPublic(BaseModel):
    id: str
    kind: ShopKind
    name: str
    trade: str
    address: str
    cap: str | None
    municipio: int | None
    nil: str | None
    id_nil: int | None
    location: Location
    year_founded: int | None
    status: ShopStatus
    status_changed_at: datetime | None
    status_note: str | None
    historic_recognised_at: datetime | None
    recognition_state: RecognitionState | None
    source: Source | None
    version: int

    @classmethod
    def of(cls, shop: Shop) -> ShopPublic:
        state = shop.recognition.state if shop.recognition else None
        return cls.model_validate(
            {**shop.model_dump(include=set(cls.model_fields) - {"recognition_state"}), "recognition_state": state}
        )


def feature_collection(page: Page[ShopPublic]) -> dict[str, Any]:
    """GeoJSON: one Point feature per shop, properties as the shop without ``location``."""
    features = []
    for shop in page.items:
        properties = shop.model_dump(mode="json", exclude={"location"})
        features.append(
            {
                "type": "Feature",
                "id": shop.id,
                "geometry": {"type": "Point", "coordinates": [shop.location.lon, shop.location.lat]},
                "properties": properties,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


class OfferPublic(BaseModel):
    id: str
    shop_id: str
    service: str
    hours: list[OpeningInterval]
    note: str
    created_at: datetime

    @classmethod
    def of(cls, offer: Offer) -> OfferPublic:
        return cls.model_validate(offer.model_dump(include=set(cls.model_fields)))


class CatalogueItem(BaseModel):
    code: str
    label_it: str
    label_en: str

    @classmethod
    def of(cls, entry: CatalogueEntry) -> CatalogueItem:
        return cls(code=entry.code, label_it=entry.label_it, label_en=entry.label_en)


class HoursToday(BaseModel):
    opens: str
    closes: str


class NearbyPublic(BaseModel):
    shop_id: str
    service_id: str
    name: str
    kind: ShopKind
    address: str
    location: Location
    distance_m: float
    open_now: bool
    hours_today: list[HoursToday]

    @classmethod
    def of(cls, found: Nearby) -> NearbyPublic:
        shop = found.point.shop
        return cls(
            shop_id=shop.shop_id,
            service_id=found.point.service_id,
            name=shop.name,
            kind=shop.kind,
            address=shop.address,
            location=Location(lon=shop.lon, lat=shop.lat),
            distance_m=round(found.distance_m, 1),
            open_now=found.open_now,
            hours_today=[HoursToday(opens=o, closes=c) for o, c in found.hours_today],
        )


class NearestPage(BaseModel):
    items: list[NearbyPublic]
    service: str
    open_at: datetime = Field(description="the Milan local time the opening hours were checked at")
    limit: int
