"""The trade-text mapping onto the published categories, on cases written by hand and on the real register."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from shared.categories import LABELS, Category, category_of_trade

REGISTER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "opendata" / "ds290_botteghe_storiche.csv"


@pytest.mark.parametrize(
    ("trade", "expected"),
    [
        ("Ristorante", "food_service"),
        ("Bar Pasticceria", "food_service"),  # the first word decides
        ("Pasticceria gelateria", "food"),
        ("Barbiere", "personal_services"),  # a barber, not a bar
        ("Parrucchiere per signora", "personal_services"),
        ("Farmacia", "personal_services"),
        ("Gioielleria, Orologeria", "clothing"),
        ("Abbigliamento calzature accessori bambino", "clothing"),
        ("Ferramenta Casalinghi", "household"),
        ("Fiori e piante", "household"),
        ("Cartolibreria", "culture"),
        ("Strumenti musicali", "culture"),
        ("Edicola", "newsstand"),
        ("Vendita di frutta e verdura", "food"),
        ("Pubblicità", "other"),  # "pub" counts only as a whole word
        ("Agenzia viaggi", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_a_trade_text_names_its_category(trade: str | None, expected: str) -> None:
    assert category_of_trade(trade) == expected


def test_a_kiosk_that_names_nothing_known_is_a_newsstand() -> None:
    assert category_of_trade("", kiosk=True) is Category.NEWSSTAND
    assert category_of_trade("Chiosco fiori", kiosk=True) is Category.HOUSEHOLD


def test_every_category_has_an_italian_and_an_english_label() -> None:
    assert set(LABELS) == set(Category)
    assert all(label.it and label.en and label.it != label.en for label in LABELS.values())


@pytest.mark.skipif(not REGISTER.exists(), reason="the real register (shared/data) is not here")
def test_the_real_register_is_mostly_placed_in_a_named_category() -> None:
    with REGISTER.open(encoding="utf-8") as handle:
        trades = [row["genere_merceologico"] for row in csv.DictReader(handle, delimiter=";")]
    counted = Counter(category_of_trade(trade) for trade in trades)
    assert len(trades) > 600
    assert counted[Category.OTHER] / len(trades) < 0.08, counted
    assert counted[Category.CLOTHING] > counted[Category.NEWSSTAND] > 0
    print(f"\n[categories] the register's {len(trades)} trades: {dict(counted.most_common())}")
