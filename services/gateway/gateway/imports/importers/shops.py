"""Open-data importers: the historic-shop register (ds290) and the newsstand register.

Files are recognised by their header. Each row becomes one ``PUT /shops/{id}`` — created (201),
updated (200) or already so (204) — keyed by the official identifier: ``bs-<n>`` for historic
shops, ``ed-<cod_ese>`` for kiosks, so re-importing never duplicates. A row repeating an
identifier already seen earlier in the same file is rejected with the line of the first one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from typing import Any

from gateway.imports.domain import Api, Outcome, Row, RowError, Source, has_columns, read_table
from shared.i18n import Said

HISTORIC_DATASET = "ds290_botteghe_storiche"
KIOSK_DATASET = "edicole"
DUPLICATE_OF = "__duplicate_of__"


class ShopKind(StrEnum):
    """The kinds of shop the registers hold, as the shops API spells them."""

    HISTORIC = "historic"
    KIOSK = "kiosk"


class ShopStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


def slug(text: str, max_length: int = 40) -> str:
    """An identifier from free text, as the shops service makes them (accents dropped, ``-`` between words)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")


_OUTCOMES = {201: Outcome.CREATED, 200: Outcome.UPDATED, 204: Outcome.UNCHANGED}
_STATUS_WORDS = {
    "attiva": ShopStatus.ACTIVE,
    "attivo": ShopStatus.ACTIVE,
    "aperta": ShopStatus.ACTIVE,
    "active": ShopStatus.ACTIVE,
    "si": ShopStatus.ACTIVE,
    "cessata": ShopStatus.CLOSED,
    "cessato": ShopStatus.CLOSED,
    "chiusa": ShopStatus.CLOSED,
    "closed": ShopStatus.CLOSED,
    "no": ShopStatus.CLOSED,
}


def flag_duplicates(rows: Iterator[Row], key: Callable[[Row], str]) -> Iterator[Row]:
    """Mark each row whose identifier appeared on an earlier line (blank identifiers are left to ``load``)."""
    first_line: dict[str, int] = {}
    for row in rows:
        identifier = key(row)
        if identifier and identifier in first_line:
            yield Row(row.line, {**row.data, DUPLICATE_OF: first_line[identifier]})
            continue
        if identifier:
            first_line[identifier] = row.line
        yield row


def _reject_duplicate(row: Row, identifier: str) -> None:
    if DUPLICATE_OF in row.data:
        first = row.data[DUPLICATE_OF]
        raise RowError(
            Said(
                f"{identifier}: riga uguale alla riga {first}: si importa solo la prima",
                f"{identifier} repeats line {first}; only the first is imported",
            )
        )


def status_of(row: Row, column: str) -> ShopStatus:
    word = row.required(column).lower()
    if word not in _STATUS_WORDS:
        raise RowError(
            Said(
                f"colonna {column!r}: è {word!r}, non attiva/cessata",
                f"column {column!r} is {word!r}, not attiva/cessata",
            )
        )
    return _STATUS_WORDS[word]


def common_fields(row: Row) -> dict[str, Any]:
    """Address, NIL and coordinates, as both registers write them."""
    lon, lat = row.lon_lat()
    cap = row.text("cap")
    if cap and not (cap.isdigit() and len(cap) == 5):
        raise RowError(
            Said(f"colonna 'cap': non è un CAP di 5 cifre: {cap!r}", f"column 'cap' is not a 5-digit postcode: {cap!r}")
        )
    municipio = row.integer("municipio", required=False)
    if municipio is not None and not 1 <= municipio <= 9:
        raise RowError(
            Said(f"colonna 'municipio': è {municipio}, non da 1 a 9", f"column 'municipio' is {municipio}, not 1 to 9")
        )
    id_nil = row.integer("id_nil", required=False)
    if id_nil is not None and id_nil < 1:
        raise RowError(
            Said(
                f"colonna 'id_nil': è {id_nil}, non un numero di NIL", f"column 'id_nil' is {id_nil}, not a NIL number"
            )
        )
    return {
        "address": row.text("indirizzo"),
        "cap": cap or None,
        "municipio": municipio,
        "nil": row.text("nil") or None,
        "id_nil": id_nil,
        "location": {"lon": lon, "lat": lat},
    }


class RegisterImporter:
    """One register row → one ``PUT /shops/{id}``; subclasses say how a row reads."""

    def identifier(self, row: Row) -> str:
        raise NotImplementedError

    def body(self, row: Row) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def rows(self, source: Source) -> Iterator[Row]:
        return flag_duplicates(read_table(source), self.identifier)

    async def load(self, api: Api, row: Row) -> Outcome:
        shop_id, body = self.body(row)
        response = await api.put(f"/shops/{shop_id}", json=body)
        return _OUTCOMES.get(int(response["_status"]), Outcome.UPDATED)


class HistoricShopsImporter(RegisterImporter):
    name = "historic-shops"
    description = Said(
        "Registro delle Botteghe Storiche di Milano (dataset ds290)",
        "Register of Milan's historic shops (Botteghe Storiche, dataset ds290)",
    )
    priority = 20

    def matches(self, source: Source) -> bool:
        return has_columns(source, "n", "targa", "genere_merceologico", "anno", "stato")

    def identifier(self, row: Row) -> str:
        return row.text("n")

    def body(self, row: Row) -> tuple[str, dict[str, Any]]:
        number = row.integer("n")
        if number is None or number < 1:
            shown = row.text("n")
            raise RowError(
                Said(
                    f"colonna 'n': non è un numero di registro: {shown!r}",
                    f"column 'n' is not a register number: {shown!r}",
                )
            )
        shop_id = f"bs-{number}"
        _reject_duplicate(row, shop_id)
        founded = row.integer("anno", required=False)
        if founded is not None and not 1000 <= founded <= date.today().year:
            raise RowError(
                Said(
                    f"colonna 'anno': non è un anno di fondazione: {founded}",
                    f"column 'anno' is not a founding year: {founded}",
                )
            )
        return shop_id, {
            "kind": ShopKind.HISTORIC.value,
            "name": row.required("targa"),
            "trade": row.text("genere_merceologico"),
            "year_founded": founded,
            "status": status_of(row, "stato").value,
            "source": {"dataset": HISTORIC_DATASET, "record": str(number)},
            **common_fields(row),
        }


class KiosksImporter(RegisterImporter):
    name = "kiosks"
    description = Said(
        "Registro delle edicole di Milano (chioschi Edicola 2.0)", "Register of Milan's newsstands (Edicola 2.0 kiosks)"
    )
    priority = 21

    def matches(self, source: Source) -> bool:
        return has_columns(source, "cod_ese", "tipo_edi", "status")

    def identifier(self, row: Row) -> str:
        return slug(row.text("cod_ese"), 60)

    def body(self, row: Row) -> tuple[str, dict[str, Any]]:
        row.required("cod_ese")
        code = self.identifier(row)
        if not code:
            shown = row.text("cod_ese")
            raise RowError(
                Said(
                    f"colonna 'cod_ese': non contiene un codice utilizzabile: {shown!r}",
                    f"column 'cod_ese' has no usable code: {shown!r}",
                )
            )
        shop_id = f"ed-{code}"
        _reject_duplicate(row, shop_id)
        return shop_id, {
            "kind": ShopKind.KIOSK.value,
            "name": f"Edicola {row.text('cod_ese')}",
            "trade": row.text("tipo_edi") or "Edicola",
            "status": status_of(row, "status").value,
            "source": {"dataset": KIOSK_DATASET, "record": row.text("cod_ese")},
            **common_fields(row),
        }
