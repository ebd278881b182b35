"""Lists: ``{"items": [...], "total": N, "limit": L, "offset": O}`` with bounded ``limit``/``offset``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")
D = TypeVar("D")

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page (1 to {MAX_LIMIT})")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"items to skip (0 to {MAX_OFFSET:,})")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], total: int, limit: int, offset: int) -> Page[T]:
        return cls(items=list(items), total=total, limit=limit, offset=offset)


def page_of(found: tuple[Sequence[D], int], show: Callable[[D], T], limit: int, offset: int) -> Page[T]:
    """The page a listing answers: what a use case found (its items and the total they are from),
    each item shown through ``show`` (an ``XPublic.of``)."""
    items, total = found
    return Page.of([show(item) for item in items], total, limit, offset)
