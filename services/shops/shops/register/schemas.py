"""Request and response bodies of the register API (shapes in docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.categories import Category
from shared.places import Location
from shared.web.pagination import Page
from shared.web.public import Public
from shops.register.domain import (
    REGISTRY_FIELDS,
    Application,
    DocumentReference,
    Recognition,
    RecognitionState,
    Registry,
    Shop,
    ShopKind,
    ShopStatus,
    Source,
)

SHOP_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
ShopId = Annotated[str, Path(pattern=SHOP_ID_PATTERN, description="e.g. bs-12 (historic register), ed-1234 (kiosk)")]
Text = Annotated[str, Field(max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Coordinates(Body):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)

    def location(self) -> Location:
        return Location(lon=self.lon, lat=self.lat)


class SourcePublic(Body):
    """Where an imported shop comes from: the dataset and the record's official identifier."""

    dataset: str = Field(min_length=1, max_length=80)
    record: str = Field(min_length=1, max_length=80)


class ShopPut(Body):
    """A shop's full registry state and status; creates the shop or brings it to this state."""

    kind: ShopKind
    name: str = Field(min_length=1, max_length=200)
    trade: Text = ""
    address: Text = ""
    cap: str | None = Field(default=None, pattern=r"^\d{5}$")
    municipio: int | None = Field(default=None, ge=1, le=9)
    nil: str | None = Field(default=None, max_length=120)
    id_nil: int | None = Field(default=None, ge=1, le=999)
    location: Coordinates
    year_founded: int | None = Field(default=None, ge=1000, description="not after the current year")
    source: SourcePublic | None = None
    status: ShopStatus = ShopStatus.ACTIVE
    category: Category | None = Field(
        default=None, description="a code of GET /categories; omitted: derived from the trade text"
    )

    def registry(self) -> Registry:
        stated: dict[str, Any] = {
            name: getattr(self, name) for name in REGISTRY_FIELDS if name in type(self).model_fields
        }
        source = self.source and Source(dataset=self.source.dataset, record=self.source.record)
        by_office = self.category is not None
        return Registry(
            **{**stated, "location": self.location.location(), "source": source, "category_by_office": by_office}
        )


class ShopCreate(ShopPut):
    id: str | None = Field(
        default=None,
        pattern=SHOP_ID_PATTERN,
        description="lower-case slug; generated from the name when omitted",
        examples=["ed-demo-isola"],
    )


class ShopUpdate(Body):
    """Registry fields to change; the kind changes by recognition or by a full PUT."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    trade: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=200)
    cap: str | None = Field(default=None, pattern=r"^\d{5}$")
    municipio: int | None = Field(default=None, ge=1, le=9)
    nil: str | None = Field(default=None, max_length=120)
    id_nil: int | None = Field(default=None, ge=1, le=999)
    location: Coordinates | None = None
    year_founded: int | None = Field(default=None, ge=1000, description="not after the current year")
    category: Category | None = Field(
        default=None, description="a code of GET /categories; null: derived from the trade text again"
    )

    def changes(self) -> dict[str, Any]:
        """The registry fields the request sets, as domain values."""
        changes: dict[str, Any] = {name: getattr(self, name) for name in self.model_fields_set}
        if self.location is not None and "location" in changes:
            changes["location"] = self.location.location()
        if "category" in changes:
            changes["category_by_office"] = self.category is not None
        return changes


class StatusChange(Body):
    status: ShopStatus
    note: str | None = Field(default=None, max_length=500)
    at: AwareDatetime | None = Field(default=None, description="when it happened; now when omitted")


class RecognitionDecision(Body):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=1000)


class DocumentReferencePublic(Body):
    """A document of the application: an uploaded one (``document_id``) or a ``reference`` to it, or both."""

    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=60)
    reference: str = Field(default="", max_length=500, description="where the office finds it, if not uploaded")
    issued_on: date | None = None
    document_id: str | None = Field(
        default=None, pattern=r"^doc-[a-f0-9]{1,32}$", description="a document of this shop (POST …/documents)"
    )

    def document(self) -> DocumentReference:
        return DocumentReference(
            title=self.title,
            kind=self.kind,
            reference=self.reference,
            issued_on=self.issued_on,
            document_id=self.document_id,
        )


class ApplicationCreate(Body):
    founding_year: int = Field(ge=1000, description="not after the current year")
    trade: str = Field(min_length=1, max_length=200)
    continuity: str = Field(min_length=1, max_length=2000)
    documents: tuple[DocumentReferencePublic, ...] = Field(default=(), max_length=20)

    def application(self) -> Application:
        return Application(
            founding_year=self.founding_year,
            trade=self.trade,
            continuity=self.continuity,
            documents=tuple(d.document() for d in self.documents),
        )


class RecognitionPublic(Public[Recognition]):
    state: RecognitionState
    application: ApplicationCreate
    applied_at: datetime
    applied_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


class ShopPublic(Public[Shop]):
    id: str
    kind: ShopKind
    name: str
    trade: str
    address: str
    cap: str | None
    municipio: int | None
    nil: str | None
    id_nil: int | None
    location: Coordinates
    year_founded: int | None
    category: Category = Field(description="a code of GET /categories")
    category_by_office: bool = Field(description="set by the office (else derived from the trade text)")
    status: ShopStatus
    status_changed_at: datetime | None
    status_note: str | None
    historic_recognised_at: datetime | None
    recognition_state: RecognitionState | None
    source: SourcePublic | None
    version: int


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
