"""The services a shop or an Edicola 2.0 kiosk may offer to its neighbourhood."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    label_it: str
    label_en: str


CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("certificati_anagrafici", "Certificati anagrafici", "Registry certificates"),
    CatalogueEntry("ritiro_pacchi", "Ritiro pacchi", "Parcel pickup"),
    CatalogueEntry("biglietti_trasporto", "Biglietti del trasporto pubblico", "Public transport tickets"),
    CatalogueEntry("info_turistiche", "Informazioni turistiche", "Tourist information"),
    CatalogueEntry("pagamento_bollette", "Pagamento bollette", "Bill payment"),
    CatalogueEntry("portineria_quartiere", "Portineria di quartiere", "Neighbourhood concierge"),
    CatalogueEntry("ricarica_telefonica", "Ricarica telefonica", "Mobile top-up"),
    CatalogueEntry("bike_sharing_info", "Informazioni bike sharing", "Bike-sharing information"),
)
SERVICE_CODES = frozenset(entry.code for entry in CATALOGUE)
