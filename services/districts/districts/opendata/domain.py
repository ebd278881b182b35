"""The open-data catalogue as DCAT-AP_IT (JSON-LD): what the districts service publishes, and how.

Pure: a list of :class:`Dataset` descriptions becomes the catalogue document. The datasets hold
aggregate figures per area (counts, shares, indexes), markets with their stalls counted by status,
the services on offer where they are offered, the historic shops, and the office's interventions:
nothing that names a person or an account (no stall holder, no spunta trader, no user). Download addresses are relative IRIs, resolved (as JSON-LD
does) against the address the catalogue was fetched from, so they are right both at the service
and behind the gateway's ``/api/v1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCIES = "http://publications.europa.eu/resource/authority/frequency/"
FORMATS = "http://publications.europa.eu/resource/authority/file-type/"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatapit": "http://dati.gov.it/onto/dcatapit#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


@dataclass(frozen=True)
class Distribution:
    path: str
    """Relative to the catalogue (``../districts.csv``)."""
    format: str
    """EU file-type code: ``CSV``, ``GEOJSON``."""
    media_type: str


@dataclass(frozen=True)
class Dataset:
    identifier: str
    title_it: str
    title_en: str
    description_it: str
    description_en: str
    theme: str
    """EU data theme code: ``ECON``, ``REGI``, ``GOVE``…"""
    frequency: str
    """EU frequency code: ``CONT`` (continuously updated), ``DAILY``…"""
    keywords: tuple[str, ...]
    distributions: tuple[Distribution, ...]


@dataclass(frozen=True)
class Publisher:
    identifier: str
    """The body's code in the index of public administrations (IPA)."""
    name: str
    email: str


CSV = "text/csv"
GEOJSON = "application/geo+json"

DATASETS = (
    Dataset(
        identifier="distretti-indicatori",
        title_it="Distretti Urbani del Commercio: indicatori",
        title_en="Urban Commerce Districts: indicators",
        description_it="Per ogni distretto: negozi, botteghe storiche ed edicole attive, servizi, posteggi dei "
        "mercati e loro occupazione, aperture e chiusure negli ultimi 30 giorni, indice di vitalità; con il "
        "perimetro nella versione GeoJSON.",
        description_en="Per district: active shops, historic shops and kiosks, services, market stalls and their "
        "occupancy, openings and closures in the last 30 days, vitality index; with the perimeter in GeoJSON.",
        theme="ECON",
        frequency="CONT",
        keywords=("commercio", "distretti", "DUC", "Milano"),
        distributions=(
            Distribution("../districts.csv", "CSV", CSV),
            Distribution("../districts.geojson", "GEOJSON", GEOJSON),
        ),
    ),
    Dataset(
        identifier="nil-indicatori",
        title_it="Nuclei d'Identità Locale (NIL): indicatori del commercio",
        title_en="Local Identity Units (NIL): commerce indicators",
        description_it="Per ogni NIL: popolazione, superficie e gli stessi indicatori dei distretti.",
        description_en="Per NIL: population, area and the same indicators as the districts.",
        theme="ECON",
        frequency="CONT",
        keywords=("commercio", "NIL", "quartieri", "Milano"),
        distributions=(Distribution("nils.csv", "CSV", CSV),),
    ),
    Dataset(
        identifier="distretti-servizi",
        title_it="Servizi offerti nei distretti",
        title_en="Services on offer in the districts",
        description_it="Per ogni distretto e tipo di servizio (ritiro pacchi, biglietti…), il numero di esercizi "
        "che lo offrono.",
        description_en="Per district and service type (parcel pick-up, tickets…), the number of businesses "
        "offering it.",
        theme="ECON",
        frequency="CONT",
        keywords=("servizi", "commercio di prossimità", "distretti"),
        distributions=(Distribution("services.csv", "CSV", CSV),),
    ),
    Dataset(
        identifier="mercati-occupazione",
        title_it="Mercati comunali e occupazione dei posteggi",
        title_en="Municipal markets and stall occupancy",
        description_it="Per ogni mercato: nome, distretti, NIL, posizione, se è attivo, i posteggi per stato "
        "(occupati, liberi, assenti, in manutenzione; quelli assegnati alla spunta di oggi contano come "
        "occupati) e il tasso di occupazione. Nessun dato sui titolari dei posteggi.",
        description_en="Per market: name, districts, NIL, location, whether it operates, its stalls by status "
        "(open, vacant, closed, in maintenance; those handed out at today's spunta count as open) and the "
        "occupancy rate. Nothing about who holds the stalls.",
        theme="ECON",
        frequency="CONT",
        keywords=("mercati", "posteggi", "occupazione", "Milano"),
        distributions=(Distribution("markets.csv", "CSV", CSV),),
    ),
    Dataset(
        identifier="servizi-offerti",
        title_it="Servizi offerti dagli esercizi e loro orari",
        title_en="Services on offer at businesses and their opening hours",
        description_it="Ogni servizio offerto da un esercizio attivo (ritiro pacchi, biglietti…): tipo, tipo di "
        "esercizio, distretti, NIL, posizione e ore settimanali di apertura del servizio, di cui serali (dopo "
        "le 19) e nel fine settimana. Gli orari giorno per giorno non sono pubblicati.",
        description_en="Each service on offer at an active business (parcel pick-up, tickets…): type, kind of "
        "business, districts, NIL, location and the service's weekly opening hours, of which in the evening "
        "(after 19:00) and at the weekend. Day-by-day hours are not published.",
        theme="ECON",
        frequency="CONT",
        keywords=("servizi", "orari", "commercio di prossimità", "Milano"),
        distributions=(
            Distribution("service-points.csv", "CSV", CSV),
            Distribution("service-points.geojson", "GEOJSON", GEOJSON),
        ),
    ),
    Dataset(
        identifier="botteghe-storiche",
        title_it="Botteghe storiche",
        title_en="Historic shops",
        description_it="Le botteghe storiche note alla piattaforma: insegna, anno di fondazione, stato (attiva o "
        "chiusa), distretti, NIL e posizione.",
        description_en="The historic shops known to the platform: sign, year founded, status (active or closed), "
        "districts, NIL and location.",
        theme="EDUC",
        frequency="CONT",
        keywords=("botteghe storiche", "commercio", "patrimonio", "Milano"),
        distributions=(Distribution("historic-shops.csv", "CSV", CSV),),
    ),
    Dataset(
        identifier="interventi",
        title_it="Interventi del Comune nei quartieri del commercio",
        title_en="The city's interventions in commercial neighbourhoods",
        description_it="Gli interventi registrati (rigenerazione di mercati, nuovi servizi, eventi): tipo, "
        "area interessata, data di avvio e gruppo di confronto.",
        description_en="The interventions recorded (market regeneration, new services, events): kind, target "
        "area, start date and comparison group.",
        theme="GOVE",
        frequency="IRREG",
        keywords=("interventi", "politiche", "mercati"),
        distributions=(Distribution("interventions.csv", "CSV", CSV),),
    ),
)


def _text(it: str, en: str) -> list[dict[str, str]]:
    return [{"@language": "it", "@value": it}, {"@language": "en", "@value": en}]


def _date(at: datetime) -> dict[str, str]:
    return {"@type": "xsd:date", "@value": at.date().isoformat()}


def _agent(publisher: Publisher) -> dict[str, Any]:
    return {
        "@id": f"#agent-{publisher.identifier}",
        "@type": ["dcatapit:Agent", "foaf:Agent"],
        "dct:identifier": publisher.identifier,
        "foaf:name": publisher.name,
    }


def _contact(publisher: Publisher) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "@id": f"#contact-{publisher.identifier}",
        "@type": ["dcatapit:Organization", "vcard:Organization"],
        "vcard:fn": publisher.name,
    }
    if publisher.email:
        contact["vcard:hasEmail"] = {"@id": f"mailto:{publisher.email}"}
    return contact


def _distribution(dataset: Dataset, d: Distribution, modified: datetime) -> dict[str, Any]:
    return {
        "@id": f"#{dataset.identifier}-{d.format.lower()}",
        "@type": ["dcatapit:Distribution", "dcat:Distribution"],
        "dct:title": _text(f"{dataset.title_it} ({d.format})", f"{dataset.title_en} ({d.format})"),
        "dct:format": {"@id": FORMATS + d.format},
        "dcat:mediaType": d.media_type,
        "dcat:accessURL": {"@id": d.path},
        "dcat:downloadURL": {"@id": d.path},
        "dct:license": {
            "@id": LICENSE,
            "@type": ["dcatapit:LicenseDocument", "dct:LicenseDocument"],
            "foaf:name": "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
        },
        "dct:modified": _date(modified),
    }


def catalog(datasets: tuple[Dataset, ...], publisher: Publisher, modified: datetime) -> dict[str, Any]:
    """The DCAT-AP_IT catalogue: each dataset with its mandatory properties and its distributions."""
    agent = {"@id": f"#agent-{publisher.identifier}"}
    contact = {"@id": f"#contact-{publisher.identifier}"}
    items = [
        {
            "@id": f"#{d.identifier}",
            "@type": ["dcatapit:Dataset", "dcat:Dataset"],
            "dct:identifier": f"{publisher.identifier}:{d.identifier}",
            "dct:title": _text(d.title_it, d.title_en),
            "dct:description": _text(d.description_it, d.description_en),
            "dct:modified": _date(modified),
            "dcat:theme": {"@id": THEMES + d.theme},
            "dct:accrualPeriodicity": {"@id": FREQUENCIES + d.frequency},
            "dct:rightsHolder": agent,
            "dct:publisher": agent,
            "dcat:contactPoint": contact,
            "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/ITA"},
            "dcat:keyword": list(d.keywords),
            "dcat:distribution": [_distribution(d, x, modified) for x in d.distributions],
        }
        for d in datasets
    ]
    return {
        "@context": CONTEXT,
        "@graph": [
            {
                "@id": "#catalog",
                "@type": ["dcatapit:Catalog", "dcat:Catalog"],
                "dct:title": _text(
                    "Distretti Urbani del Commercio di Milano: dati aperti",
                    "Milan's Urban Commerce Districts: open data",
                ),
                "dct:description": _text(
                    "Indicatori del commercio di prossimità per distretto e NIL, mercati e occupazione dei "
                    "posteggi, servizi offerti e loro orari, botteghe storiche e interventi del Comune, "
                    "calcolati dal vivo dalla piattaforma.",
                    "Neighbourhood commerce indicators per district and NIL, markets and stall occupancy, "
                    "services on offer and their hours, historic shops and the city's interventions, "
                    "computed live by the platform.",
                ),
                "dct:publisher": agent,
                "dct:modified": _date(modified),
                "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/ITA"},
                "dcat:dataset": [{"@id": item["@id"]} for item in items],
            },
            _agent(publisher),
            _contact(publisher),
            *items,
        ],
    }
