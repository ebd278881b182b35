"""``XPublic`` shapes: what a route answers, read from the domain object it maps."""

from __future__ import annotations

from typing import Generic, Self, TypeVar

from pydantic import BaseModel

D = TypeVar("D")


class Public(BaseModel, Generic[D]):
    """An answer read field by field from a domain object of type ``D`` (attributes, nested too).

    A shape whose fields are named as the domain's declares ``class XPublic(Public[X])`` and maps
    with ``XPublic.of(x)``; one that renames or computes fields defines its own ``of``.
    """

    @classmethod
    def of(cls, obj: D) -> Self:
        return cls.model_validate(obj, from_attributes=True)
