"""Importer of the open-data file of the covered markets (columns of Comune di Milano ds2471).

One row per market: ``mcc`` (the market's name), ``num_box``, ``attivo``, ``note``, ``indirizzo``,
``cap``, ``municipio``, ``id_nil``, ``nil``, ``long_x_4326``/``lat_y_4326`` or ``location``. The
market id is the slug of its name, so re-importing the file updates the same markets and never
duplicates them; fields the file does not carry (opening hours) are left as they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from gateway.imports.domain import Api, Outcome, Row, RowError, Source, has_columns, read_table
from shared.i18n import Said

MARKET_PREFIX = "Mercato Comunale Coperto"
FIRST_SEEN = "__first_line__"
ACTIVE = {"si": True, "sì": True, "attivo": True, "attiva": True, "true": True, "1": True}
INACTIVE = {"no": False, "cessato": False, "cessata": False, "chiuso": False, "false": False, "0": False}


def slug(text: str) -> str:
    """``Darsena XXIV Maggio`` → ``darsena-xxiv-maggio`` (accents dropped, words joined by ``-``)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def market_name(mcc: str) -> str:
    return mcc if mcc.lower().startswith("mercato") else f"{MARKET_PREFIX} {mcc}"


def _active(row: Row) -> bool:
    flag = row.text("attivo").lower()
    if not flag:
        return True
    if flag in ACTIVE:
        return ACTIVE[flag]
    if flag in INACTIVE:
        return INACTIVE[flag]
    shown = row.text("attivo")
    raise RowError(
        Said(
            f"colonna 'attivo': deve essere SI o NO, non {shown!r}", f"column 'attivo' must be SI or NO, not {shown!r}"
        )
    )


def _bounded(row: Row, column: str, low: int, high: int, *, required: bool) -> int | None:
    value = row.integer(column, required=required)
    if value is not None and not low <= value <= high:
        raise RowError(
            Said(
                f"colonna {column!r}: deve essere tra {low} e {high}, non {value}",
                f"column {column!r} must be between {low} and {high}, not {value}",
            )
        )
    return value


def market_fields(row: Row) -> dict[str, Any]:
    """The market a row describes, as the API's create body; RowError when it cannot be."""
    mcc = row.required("mcc")
    market_id = slug(mcc)
    if len(market_id) < 2:
        raise RowError(
            Said(
                f"colonna 'mcc': non dà un identificativo utilizzabile: {mcc!r}",
                f"column 'mcc' gives no usable id: {mcc!r}",
            )
        )
    if FIRST_SEEN in row.data:
        first = row.data[FIRST_SEEN]
        raise RowError(
            Said(
                f"il mercato {market_id!r} compare già alla riga {first}",
                f"market {market_id!r} already appears on line {first}",
            )
        )
    cap = row.text("cap")
    if cap and not re.fullmatch(r"\d{5}", cap):
        raise RowError(
            Said(f"colonna 'cap': non è un CAP di 5 cifre: {cap!r}", f"column 'cap' must be 5 digits, not {cap!r}")
        )
    lon, lat = row.lon_lat()
    return {
        "id": market_id,
        "name": market_name(mcc),
        "address": row.required("indirizzo"),
        "cap": cap or None,
        "municipio": _bounded(row, "municipio", 1, 9, required=True),
        "id_nil": _bounded(row, "id_nil", 1, 999, required=False),
        "nil": row.text("nil") or None,
        "location": {"lon": lon, "lat": lat},
        "active": _active(row),
        "notes": row.text("note"),
        "boxes": _bounded(row, "num_box", 0, 1000, required=False),
    }


class MarketsImporter:
    name = "markets"
    description = Said(
        "mercati comunali coperti (mcc, num_box, attivo, indirizzo, municipio, coordinate)",
        "covered municipal markets (mcc, num_box, attivo, indirizzo, municipio, coordinates)",
    )
    priority = 10

    def matches(self, source: Source) -> bool:
        return has_columns(source, "mcc", "num_box", "attivo", "municipio")

    def rows(self, source: Source) -> Iterator[Row]:
        """The file's rows; a market repeated in the file carries the line where it first appeared."""
        first: dict[str, int] = {}
        for row in read_table(source):
            market_id = slug(row.text("mcc"))
            if market_id and market_id in first:
                yield Row(row.line, {**row.data, FIRST_SEEN: first[market_id]})
                continue
            first.setdefault(market_id, row.line)
            yield row

    async def load(self, api: Api, row: Row) -> Outcome:
        fields = market_fields(row)
        market_id = fields["id"]
        existing = await api.get(f"/markets/{market_id}", ok=(404,))
        if existing["_status"] == 404:
            created = await api.post("/markets", json=fields, ok=(409,))
            if created["_status"] == 201:
                return Outcome.CREATED
            existing = await api.get(f"/markets/{market_id}")
        changes = {k: v for k, v in fields.items() if k != "id" and existing.get(k) != v}
        if not changes:
            return Outcome.UNCHANGED
        await api.request(
            "PATCH", f"/markets/{market_id}", json=changes, headers={"If-Match": f'"{existing["version"]}"'}
        )
        return Outcome.UPDATED
