"""CloudEvents 1.0 structured envelope and the base class for typed event payloads.

A service declares each event it publishes as a subclass of :class:`EventData` with an explicit,
versioned ``event_type`` (``markets.stall.status_changed.v1``). Evolution is add-only: a new field
gets a default, a breaking change is a new ``.v2`` type. Consumers keep their own copy of the
payloads they read and ignore fields they do not know.
"""

from __future__ import annotations

import builtins
import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

SPECVERSION = "1.0"
JSON = "application/json"


EventDataT = TypeVar("EventDataT", bound="EventData")


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventData(BaseModel):
    """Payload of one event type. Subclasses set ``event_type`` and ``source``."""

    model_config = ConfigDict(extra="ignore")

    event_type: ClassVar[str]
    source: ClassVar[str]

    def subject(self) -> str:
        """The aggregate id; used as Kafka key so one aggregate's events stay ordered."""
        raise NotImplementedError

    def to_event(self, *, subject: str | None = None, time: datetime | None = None) -> CloudEvent:
        return CloudEvent(
            source=self.source,
            type=self.event_type,
            subject=subject or self.subject(),
            time=time or utcnow(),
            data=self.model_dump(mode="json"),
        )


class CloudEvent(BaseModel):
    """The structured-mode CloudEvents 1.0 envelope, as it travels on the topics."""

    model_config = ConfigDict(extra="allow")

    specversion: str = SPECVERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = JSON
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("specversion")
    @classmethod
    def _known_spec(cls, value: str) -> str:
        if value != SPECVERSION:
            raise ValueError(f"unsupported specversion {value!r}")
        return value

    @field_validator("type", "source", "subject", "id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> CloudEvent:
        if raw is None:
            raise ValueError("empty message")
        return cls.model_validate(json.loads(raw))

    def key(self) -> bytes:
        return self.subject.encode()

    def payload(self, model: builtins.type[EventDataT]) -> EventDataT:
        return model.model_validate(self.data)
