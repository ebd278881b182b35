"""The one published list of commerce categories, and how a register's trade text maps onto it.

Every shop and kiosk carries one of these codes (the shops service derives it from the trade text
unless the office set it; districts count by it). Codes are language-neutral; ``LABELS`` says them
in Italian and English.

The mapping reads the trade text word by word, in order, and the first word that starts with one
of the ``STEMS`` (or is one of the ``WORDS``) decides (by its longest stem: "barbiere" is a barber, not a bar): "Bar Pasticceria"
is food service (a bar first), "Pasticceria gelateria" food. A kiosk whose trade names nothing known is a newsstand; anything else unknown is ``other``.
Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from shared.i18n import Said


class Category(StrEnum):
    FOOD = "food"
    FOOD_SERVICE = "food_service"
    PERSONAL_SERVICES = "personal_services"
    CLOTHING = "clothing"
    HOUSEHOLD = "household"
    CULTURE = "culture"
    NEWSSTAND = "newsstand"
    OTHER = "other"


LABELS: dict[Category, Said] = {
    Category.FOOD: Said(it="Alimentari", en="Food"),
    Category.FOOD_SERVICE: Said(it="Bar e ristorazione", en="Food service"),
    Category.PERSONAL_SERVICES: Said(it="Servizi alla persona e salute", en="Personal services and health"),
    Category.CLOTHING: Said(it="Abbigliamento, accessori e gioielli", en="Clothing, accessories and jewellery"),
    Category.HOUSEHOLD: Said(it="Casa, ferramenta e giardino", en="Household, hardware and garden"),
    Category.CULTURE: Said(it="Cultura, libri e tempo libero", en="Culture, books and leisure"),
    Category.NEWSSTAND: Said(it="Edicole", en="Newsstands"),
    Category.OTHER: Said(it="Altro", en="Other"),
}

# word stems (lower case, without accents) -> category; a word counts when it starts with a stem
STEMS: dict[str, Category] = {
    **dict.fromkeys(
        (
            "caffe",
            "ristor",
            "trattor",
            "osteri",
            "pizzer",
            "gelater",
            "birrer",
            "tavola",
            "paninote",
            "latteria",
            "bistro",
            "cocktail",
            "enoteca",
            "gelat",
            "rosticc",
        ),
        Category.FOOD_SERVICE,
    ),
    **dict.fromkeys(
        (
            "panific",
            "panetter",
            "pasticc",
            "macell",
            "salum",
            "gastronom",
            "pescher",
            "drogher",
            "vini",
            "liquor",
            "frutta",
            "verdur",
            "ortofrut",
            "formagg",
            "alimentar",
            "torrefaz",
            "cioccol",
            "confett",
            "pasta",
            "forno",
            "fornai",
            "prestin",
            "dolci",
            "spezie",
            "minimarket",
        ),
        Category.FOOD,
    ),
    **dict.fromkeys(
        (
            "parrucch",
            "barbier",
            "estetic",
            "profumer",
            "farmac",
            "erborister",
            "ottic",
            "ottica",
            "lavanderi",
            "tintori",
            "calzolai",
            "sanitari",
            "ortoped",
            "acconciat",
            "tatuagg",
            "bellezz",
        ),
        Category.PERSONAL_SERVICES,
    ),
    **dict.fromkeys(
        (
            "abbigl",
            "calzat",
            "pellicc",
            "pellett",
            "merceri",
            "camic",
            "maglier",
            "sartori",
            "cappell",
            "borse",
            "intimo",
            "moda",
            "tessut",
            "gioiell",
            "orefic",
            "orolog",
            "argent",
            "bigiott",
            "biancher",
            "guanti",
            "ombrell",
            "cravatt",
            "modister",
            "bijoux",
            "valiger",
            "calzoler",
            "maglific",
            "bottoni",
            "preziosi",
        ),
        Category.CLOTHING,
    ),
    **dict.fromkeys(
        (
            "ferrament",
            "casaling",
            "coltell",
            "mobil",
            "arred",
            "vetrer",
            "cristall",
            "porcell",
            "illuminaz",
            "elettric",
            "vernic",
            "colori",
            "fiori",
            "piante",
            "vivai",
            "tappezz",
            "materass",
            "tende",
            "ceramic",
            "pneumat",
            "utensil",
            "tappet",
            "elettrodom",
        ),
        Category.HOUSEHOLD,
    ),
    **dict.fromkeys(
        (
            "librer",
            "cartoler",
            "cartolibr",
            "strument",
            "music",
            "giocatt",
            "dischi",
            "arti",
            "galler",
            "antiquar",
            "fotograf",
            "souvenir",
            "stamp",
            "scrittur",
            "filatel",
            "cornic",
            "modellis",
            "teatr",
            "cinem",
            "pipe",
            "libri",
            "legatori",
            "cancelleri",
            "tipograf",
            "copister",
        ),
        Category.CULTURE,
    ),
    **dict.fromkeys(("edicol", "giornal", "quotidian"), Category.NEWSSTAND),
}
# short words that only count whole ("bar", not "barattoli"; "pub", not "pubblicità")
WORDS: dict[str, Category] = {"bar": Category.FOOD_SERVICE, "pub": Category.FOOD_SERVICE}
_WORD = re.compile(r"[a-z]+")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def category_of_trade(trade: str | None, *, kiosk: bool = False) -> Category:
    """The category a trade text names (``other`` when none; a kiosk's default is ``newsstand``)."""
    for word in _WORD.findall(_plain(trade or "")):
        if word in WORDS:
            return WORDS[word]
        stems = [stem for stem in STEMS if word.startswith(stem)]
        if stems:
            return STEMS[max(stems, key=len)]
    return Category.NEWSSTAND if kiosk else Category.OTHER
