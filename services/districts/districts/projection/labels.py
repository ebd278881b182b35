"""What each district figure is called, in Italian and in English: for the DUC report's tables and
charts and for the sentences that say an intervention's impact."""

from __future__ import annotations

from collections.abc import Mapping

KPI_LABELS: Mapping[str, Mapping[str, str]] = {
    "it": {
        "vitality_index": "Indice di vitalità",
        "shops_active": "Attività commerciali attive",
        "historic_active": "Botteghe storiche attive",
        "kiosks_active": "Edicole attive",
        "services_total": "Servizi offerti",
        "stalls_total": "Posteggi nei mercati",
        "stalls_open": "Posteggi aperti",
        "stalls_vacant": "Posteggi liberi",
        "stall_occupancy": "Occupazione dei posteggi",
        "openings_30d": "Aperture negli ultimi 30 giorni",
        "closures_30d": "Chiusure negli ultimi 30 giorni",
        "historic_closures_30d": "Chiusure di botteghe storiche negli ultimi 30 giorni",
        "population": "Residenti (stima)",
    },
    "en": {
        "vitality_index": "Vitality index",
        "shops_active": "Active businesses",
        "historic_active": "Active historic shops",
        "kiosks_active": "Active kiosks",
        "services_total": "Services on offer",
        "stalls_total": "Market stalls",
        "stalls_open": "Open stalls",
        "stalls_vacant": "Vacant stalls",
        "stall_occupancy": "Stall occupancy",
        "openings_30d": "Openings in the last 30 days",
        "closures_30d": "Closures in the last 30 days",
        "historic_closures_30d": "Historic shop closures in the last 30 days",
        "population": "Residents (estimate)",
    },
}


def kpi_label(name: str, language: str) -> str:
    """The figure's name in ``language`` (Italian unless ``en``); the code itself for an unknown one."""
    return KPI_LABELS["en" if language == "en" else "it"].get(name, name)
