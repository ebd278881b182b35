"""The open-data catalogue: DCAT-AP_IT classes and properties, downloads that answer as advertised, nothing personal."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from districts.main import create_app

from devkit.testing import running_app

from .conftest import Live

pytestmark = pytest.mark.integration

CENTRO = (9.19, 45.465)
CATALOG = "http://test/opendata/catalog.jsonld"
MANDATORY_DATASET = (
    "dct:identifier",
    "dct:title",
    "dct:description",
    "dct:modified",
    "dcat:theme",
    "dct:rightsHolder",
    "dct:accrualPeriodicity",
    "dcat:distribution",
)


def _typed(graph: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [node for node in graph if kind in node["@type"]]


async def test_catalogue_lists_downloadable_anonymous_non_personal_datasets(live: Live) -> None:
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", CENTRO)
        await live.nil(client, 1, "Duomo", CENTRO, population=16706, area_km2=2.34)
        pilot = {
            "code": "mercato-centro",
            "title": "Mercato rigenerato",
            "kind": "market_regeneration",
            "target": {"type": "market", "id": "m1"},
            "started_at": "2026-09-01T00:00:00+00:00",
        }
        assert (await client.post("/interventions", json=pilot, headers=live.office)).status_code == 201
        await live.send(
            live.settings.markets_topic, [live.events.market("m1", 1, *CENTRO), live.events.stall("m1", 1, "open")]
        )
        await live.send(
            live.settings.shops_topic,
            [live.events.shop("s1", 1, "shop", "active", *CENTRO), live.events.service("s1", "svc1", "parcel_pickup")],
        )

        async def projected() -> bool:
            kpis = (await client.get("/districts/centro")).json()["kpis"]
            assert kpis["services_total"] == 1 and kpis["stalls_open"] == 1
            return True

        await live.wait(projected, what="the figures behind the exports")

        answer = await client.get("/opendata/catalog.jsonld")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/ld+json")
        document = answer.json()
        assert document["@context"]["dcatapit"] == "http://dati.gov.it/onto/dcatapit#"
        graph = document["@graph"]
        (catalog,) = _typed(graph, "dcatapit:Catalog")
        assert "dcat:Catalog" in catalog["@type"]
        for name in ("dct:title", "dct:description", "dct:publisher", "dct:modified", "dcat:dataset"):
            assert catalog[name], name
        (agent,) = _typed(graph, "dcatapit:Agent")
        assert catalog["dct:publisher"] == {"@id": agent["@id"]} and agent["dct:identifier"] == "c_f205"
        assert _typed(graph, "dcatapit:Organization"), "a contact point"

        datasets = _typed(graph, "dcatapit:Dataset")
        assert {d["@id"] for d in datasets} == {d["@id"] for d in catalog["dcat:dataset"]}
        assert {d["dct:identifier"] for d in datasets} >= {"c_f205:distretti-indicatori", "c_f205:distretti-servizi"}
        downloads = []
        for dataset in datasets:
            for name in MANDATORY_DATASET:
                assert dataset.get(name), (dataset["@id"], name)
            assert dataset["dct:accrualPeriodicity"]["@id"].startswith(
                "http://publications.europa.eu/resource/authority/frequency/"
            )
            for distribution in dataset["dcat:distribution"]:
                assert "dcatapit:Distribution" in distribution["@type"]
                assert distribution["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
                assert distribution["dct:format"]["@id"].startswith(
                    "http://publications.europa.eu/resource/authority/file-type/"
                )
                downloads.append((distribution["dcat:downloadURL"]["@id"], distribution["dcat:mediaType"]))
        assert len(downloads) == 5

        for url, media_type in downloads:
            path = urlsplit(urljoin(CATALOG, url)).path
            got = await client.get(path)
            assert got.status_code == 200, (path, got.text)
            assert got.headers["content-type"].split(";")[0] == media_type, path
            text = got.text
            assert "Shop s1" not in text and "holder" not in text and "office" not in text, (path, text)
            assert "s1" not in text.split(), path
            if media_type == "text/csv":
                assert len(text.splitlines()) >= 2, (path, text)
        served = {urlsplit(urljoin(CATALOG, url)).path: url for url, _ in downloads}
        services = (await client.get("/opendata/services.csv")).text.splitlines()
        assert services == ["district,district_name,service,businesses", "centro,Centro,parcel_pickup,1"]
        nils = (await client.get("/opendata/nils.csv")).text.splitlines()
        assert nils[0].startswith("id,name,population,area_km2,shops_active") and nils[1].startswith("1,Duomo,16706")
        assert "mercato-centro,Mercato rigenerato" in (await client.get("/opendata/interventions.csv")).text
        assert set(served) == {
            "/districts.csv",
            "/districts.geojson",
            "/opendata/nils.csv",
            "/opendata/services.csv",
            "/opendata/interventions.csv",
        }
