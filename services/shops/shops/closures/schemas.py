"""Request and response bodies of closures (shapes in docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shops.closures.domain import Closure


class ClosureCreate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from", description="first closed day (Milan calendar)", examples=["2026-08-10"])
    to: date = Field(description="last closed day, inclusive", examples=["2026-08-23"])
    reason: str = Field(min_length=1, max_length=200, examples=["Chiusura estiva"], description="shown to citizens")


class ClosurePublic(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    id: str
    shop_id: str
    from_: date = Field(alias="from")
    to: date
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, closure: Closure) -> ClosurePublic:
        return cls.model_validate(
            {
                "id": closure.id,
                "shop_id": closure.shop_id,
                "from": closure.first,
                "to": closure.last,
                "reason": closure.reason,
                "created_at": closure.created_at,
            }
        )
