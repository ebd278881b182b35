"""HTTP route of the categories: the one list every shop, kiosk and district figure uses."""

from __future__ import annotations

from fastapi import APIRouter

from shared.categories import Category
from shared.web.pagination import Page
from shared.web.params import ChosenLanguage
from shops.categories.schemas import CategoryPublic

router = APIRouter(tags=["shops"])


@router.get("/categories", summary="The published list of commerce categories, with Italian and English labels")
async def categories(language: ChosenLanguage) -> Page[CategoryPublic]:
    items = [CategoryPublic.of(category, language) for category in Category]
    return Page[CategoryPublic].of(items, len(items), len(items), 0)
