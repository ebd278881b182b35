"""The districts' open data through the gateway: anonymous, and every download of the catalogue answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from devkit.testing import LocalKafka, LocalMongo, make_settings, unique

from .conftest import gateway_settings, running_gateway, serve

pytestmark = pytest.mark.integration


async def test_catalogue_and_its_downloads_answer_anonymously_through_the_gateway(
    kafka: LocalKafka, mongo: LocalMongo
) -> None:
    districts_main = pytest.importorskip("districts.main")
    districts_settings = pytest.importorskip("districts.settings")
    settings: Any = make_settings(
        districts_settings.DistrictsSettings,
        kafka,
        mongo,
        markets_topic=unique("markets.events"),
        shops_topic=unique("shops.events"),
        districts_topic=unique("districts.events"),
        consumer_group=unique("districts"),
    )
    async with (
        serve(districts_main.create_app(settings)) as districts_url,
        running_gateway(gateway_settings(kafka, mongo, districts_url=districts_url)) as gateway,
    ):
        catalog_url = f"{gateway.url}/api/v1/opendata/catalog.jsonld"
        answer = await gateway.client.get(catalog_url)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/ld+json")
        graph = answer.json()["@graph"]
        downloads = [
            (urljoin(catalog_url, d["dcat:downloadURL"]["@id"]), d["dcat:mediaType"])
            for node in graph
            if "dcatapit:Dataset" in node["@type"]
            for d in node["dcat:distribution"]
        ]
        assert len(downloads) == 9
        async with httpx.AsyncClient(timeout=10) as anonymous:
            for url, media_type in downloads:
                assert url.startswith(f"{gateway.url}/api/v1/"), url
                got = await anonymous.get(url)
                assert got.status_code == 200, (url, got.text)
                assert got.headers["content-type"].split(";")[0] == media_type, url
            forbidden = await anonymous.post(
                f"{gateway.url}/api/v1/interventions",
                json={"code": "x", "title": "x", "kind": "events", "target": {"type": "district", "id": "x"}},
            )
            assert forbidden.status_code == 401
