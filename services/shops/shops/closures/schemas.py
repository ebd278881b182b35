"""Request and response bodies of closures (shapes in docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shops.closures.domain import Closure, DayRange

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class RangeBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: str = Field(pattern=HHMM, examples=["09:00"])
    closes: str = Field(pattern=HHMM + "|^24:00$", examples=["13:00"])

    def to_domain(self) -> DayRange:
        def minutes(text: str) -> int:
            hours, mins = text.split(":")
            return int(hours) * 60 + int(mins)

        return DayRange(minutes(self.opens), minutes(self.closes))


class ClosureCreate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from", description="first closed day (Milan calendar)", examples=["2026-08-10"])
    to: date = Field(description="last closed day, inclusive", examples=["2026-08-23"])
    reason: str = Field(min_length=1, max_length=200, examples=["Chiusura estiva"], description="shown to citizens")
    hours: list[RangeBody] = Field(
        default_factory=list,
        max_length=4,
        description="exceptional hours on each of these days (the weekly hours do not apply); empty: closed",
    )


class ClosurePublic(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    id: str
    shop_id: str
    from_: date = Field(alias="from")
    to: date
    reason: str
    hours: list[RangeBody]
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
                "hours": [{"opens": o, "closes": c} for o, c in closure.hours_text()],
                "created_at": closure.created_at,
            }
        )
