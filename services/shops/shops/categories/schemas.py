"""API shape of a category of the published list."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.categories import LABELS, Category


class CategoryPublic(BaseModel):
    code: Category
    label: str = Field(description="in the language asked for (Italian unless Accept-Language prefers English)")
    label_it: str
    label_en: str

    @classmethod
    def of(cls, category: Category, language: str) -> CategoryPublic:
        said = LABELS[category]
        return cls(code=category, label=said.in_(language), label_it=said.it, label_en=said.en)
