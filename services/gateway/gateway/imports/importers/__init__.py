"""The open-data files the platform imports, one importer each, in the order a folder is imported:
the geography first (NILs, district perimeters, then the NIL baseline that needs the NILs), then the
markets and the shop registers."""

from __future__ import annotations

from gateway.imports.domain import Importer
from gateway.imports.importers.districts import BaselineImporter, DistrictImporter, NilImporter
from gateway.imports.importers.markets import MarketsImporter
from gateway.imports.importers.shops import HistoricShopsImporter, KiosksImporter

IMPORTERS: list[Importer] = sorted(
    [
        NilImporter(),
        DistrictImporter(),
        BaselineImporter(),
        MarketsImporter(),
        HistoricShopsImporter(),
        KiosksImporter(),
    ],
    key=lambda i: (i.priority, i.name),
)
