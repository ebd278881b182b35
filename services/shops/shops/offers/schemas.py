"""Request and response bodies of the offers API; the public names keep saying "service"."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.places import OpeningInterval
from shared.web.public import Public
from shops.offers.domain import CatalogueEntry, Offer
from shops.offers.hours import HHMM_PATTERN


class OpeningIntervalPublic(Public[OpeningInterval]):
    model_config = ConfigDict(frozen=True, extra="forbid")

    day: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    opens: str = Field(pattern=HHMM_PATTERN, examples=["08:00"])
    closes: str = Field(pattern=HHMM_PATTERN, examples=["19:30"], description="earlier than opens: past midnight")

    def interval(self) -> OpeningInterval:
        return OpeningInterval(day=self.day, opens=self.opens, closes=self.closes)


class OfferCreate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = Field(max_length=60, examples=["ritiro_pacchi"], description="a code of the catalogue")
    hours: list[OpeningIntervalPublic] = Field(max_length=50)
    note: str = Field(default="", max_length=500)


class OfferPut(BaseModel):
    """A service's new weekly hours and note (what it offers stays: remove it and add another to change that)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hours: list[OpeningIntervalPublic] = Field(max_length=50)
    note: str = Field(default="", max_length=500)


class OfferPublic(BaseModel):
    id: str
    shop_id: str
    service: str
    hours: list[OpeningIntervalPublic]
    note: str
    created_at: datetime
    updated_at: datetime | None = Field(description="when its hours or note last changed")
    version: int = Field(description="as the ETag; send it back in If-Match to change the hours")

    @classmethod
    def of(cls, offer: Offer) -> OfferPublic:
        return cls(
            id=offer.id,
            shop_id=offer.shop_id,
            service=offer.code,
            hours=[OpeningIntervalPublic.of(h) for h in offer.hours],
            note=offer.note,
            created_at=offer.created_at,
            updated_at=offer.updated_at,
            version=offer.version,
        )


class CatalogueItem(Public[CatalogueEntry]):
    code: str
    label_it: str
    label_en: str
