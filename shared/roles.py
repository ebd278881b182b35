"""The roles of the platform's accounts (pure: usable by any layer)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICE = "commerce_office"
    MARKET_OPERATOR = "market_operator"
    SHOPKEEPER = "shopkeeper"
    TRADER = "trader"  # market traders: call applicants and spuntisti
