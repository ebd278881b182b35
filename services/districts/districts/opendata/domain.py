"""The open-data catalogue as DCAT-AP_IT (JSON-LD): what the districts service publishes, and how.

Pure: a list of :class:`Dataset` descriptions becomes the catalogue document. The datasets hold
aggregate figures per area (counts, shares, indexes), markets with their stalls counted by status,
the services on offer where they are offered, the historic shops, and the office's interventions:
nothing that names a person or an account (no stall holder, no spunta trader, no user). Download addresses are relative IRIs, resolved (as JSON-LD
does) against the address the catalogue was fetched from, so they are right both at the service
and behind the gateway's ``/api/v1``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
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

MEDIA_TYPES = {"CSV": CSV, "GEOJSON": GEOJSON}


def _load_datasets() -> tuple[Dataset, ...]:
    """The published datasets, described in ``datasets.json`` beside this module (read once)."""
    entries = json.loads(resources.files(__package__).joinpath("datasets.json").read_text(encoding="utf-8"))
    return tuple(
        Dataset(
            **{
                **entry,
                "keywords": tuple(entry["keywords"]),
                "distributions": tuple(
                    Distribution(d["path"], d["format"], MEDIA_TYPES[d["format"]]) for d in entry["distributions"]
                ),
            }
        )
        for entry in entries
    )


DATASETS = _load_datasets()


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
