"""Demo seed and open-data importers through the API, then the real historic register projected live."""

from __future__ import annotations

import asyncio
import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from districts.main import create_app
from districts.seed import DISTRICTS, NILS, PILOTS, seed
from districts.settings import DistrictsSettings
from gateway.imports.domain import Api, Outcome, Source
from gateway.imports.importers import IMPORTERS
from gateway.imports.importers.districts import BaselineImporter, DistrictImporter, NilImporter
from gateway.imports.service import InProcessApi

from devkit.client import ApiClient
from devkit.testing import LocalKafka, LocalMongo, eventually, issue_token, make_settings, produce, running_app, unique
from shared.events import CloudEvent
from shared.identity import Principal, Role

pytestmark = pytest.mark.integration

OPENDATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "opendata"
GEOGRAPHY = ("nil", "districts", "nil-baseline")


@pytest.fixture
def settings(kafka: LocalKafka, mongo: LocalMongo) -> DistrictsSettings:
    """The districts service with every topic and its consumer group of its own."""
    fields = DistrictsSettings.model_fields
    names = [name for name in fields if name.endswith("_topic")] + ["consumer_group"]
    own = {name: unique(str(fields[name].default)) for name in names}
    settings: DistrictsSettings = make_settings(
        DistrictsSettings, kafka, mongo, **own, refresh_idle_poll_s=0.2, rebuild_drop_delay_s=0
    )
    return settings


@pytest.fixture
def office(settings: DistrictsSettings) -> dict[str, str]:
    token = issue_token(settings, Principal(username="office", role=Role.OFFICE), timedelta(minutes=5))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def send(kafka: LocalKafka) -> Any:
    async def send(topic: str, batch: list[CloudEvent]) -> None:
        await produce(kafka.bootstrap, topic, [(event.key(), event.to_bytes()) for event in batch])

    return send


@pytest.fixture
def wait() -> Any:
    return eventually


@pytest.fixture
def district_kpis() -> Any:
    async def kpis(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
        response = await client.get(f"/districts/{code}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()["kpis"]
        return body

    return kpis


def api_on(client: httpx.AsyncClient, office: dict[str, str]) -> ApiClient:
    """The seed's ApiClient talking to the service itself, as the gateway would forward it."""
    api = ApiClient("http://test")
    api.http = httpx.AsyncClient(transport=client._transport, base_url="http://test", headers=office)
    return api


def importers_api(client: httpx.AsyncClient, office: dict[str, str]) -> InProcessApi:
    """The importers' API on the service itself, as an import job reaches it through the gateway."""

    async def bearer() -> str:
        return office["Authorization"].removeprefix("Bearer ")

    api = InProcessApi(client._transport.app, bearer, base_url="http://test")  # type: ignore[attr-defined]
    return api


def source(path: Path) -> Source:
    return Source(path.name, path.read_bytes())


async def run(importer: Any, api: Api, path: Path) -> dict[str, int]:
    """Import a file with eight rows in flight, as an import job does."""
    outcomes = {o.value: 0 for o in Outcome}
    rows = list(importer.rows(source(path)))

    async def worker() -> None:
        while rows:
            outcomes[(await importer.load(api, rows.pop())).value] += 1

    await asyncio.gather(*(worker() for _ in range(8)))
    return outcomes


def register_events() -> list[CloudEvent]:
    """The real register of historic shops as the shops service would publish it."""
    path = OPENDATA / "ds290_botteghe_storiche.csv"
    if not path.exists():
        pytest.skip(f"real open data not available: {path}")
    events = []
    for row in csv.DictReader(path.open(encoding="utf-8-sig"), delimiter=";"):
        data = {
            "shop_id": f"bs-{row['n']}",
            "kind": "historic",
            "name": row["targa"],
            "trade": row["genere_merceologico"],  # no category: the projection derives it, as for older events
            "nil": row["nil"],
            "location": {"lon": float(row["long_x_4326"]), "lat": float(row["lat_y_4326"])},
            "year_founded": int(row["anno"]) if row["anno"] else None,
            "status": "active" if row["stato"] == "attiva" else "closed",
            "status_changed_at": None,
            "version": 1,
        }
        events.append(CloudEvent(source="/shops", type="shops.shop.registered.v1", subject=data["shop_id"], data=data))
    return events


async def test_seed_then_official_files_then_the_real_register(
    settings: Any, office: dict[str, str], send: Any, wait: Any, district_kpis: Any
) -> None:
    nil_file, duc_file = OPENDATA / "nil.geojson", OPENDATA / "duc_approx.geojson"
    assert [i.name for i in IMPORTERS if i.name in GEOGRAPHY] == ["nil", "districts", "nil-baseline"]
    assert [i.name for i in IMPORTERS][:3] == list(GEOGRAPHY), "the geography is imported first"
    async for client in running_app(create_app(settings)):
        seeding = api_on(client, office)
        await seed(seeding)
        await seed(seeding)
        await seeding.http.aclose()
        api = importers_api(client, office)
        listed = (await client.get("/districts")).json()
        assert listed["total"] == len(DISTRICTS) and {d["version"] for d in listed["items"]} == {1}
        assert (await client.get("/nils")).json()["total"] == len(NILS)
        pilots = (await client.get("/interventions")).json()["items"]
        assert {p["code"]: p["target"]["id"] for p in pilots} == {
            "mercato-santa-maria-del-suffragio": "santa-maria-del-suffragio",
            "mercato-lorenteggio": "lorenteggio",
            "spazio-sociale-piazza-ferrara": "ferrara",
        }
        assert len(pilots) == len(PILOTS)
        brera = await wait(lambda: _population(client, "brera"), what="brera population from the seeded NILs")
        assert 17000 < brera < 19500

        if not nil_file.exists() or not duc_file.exists():
            pytest.skip("real open data not available: the seed was checked, the import is not")
        nil_source, duc_source = source(nil_file), source(duc_file)
        assert NilImporter().matches(nil_source) and not NilImporter().matches(duc_source)
        assert DistrictImporter().matches(duc_source) and not DistrictImporter().matches(nil_source)
        assert await run(NilImporter(), api, nil_file) == {"created": 74, "updated": 14, "unchanged": 0}
        assert await run(DistrictImporter(), api, duc_file) == {"created": 0, "updated": 10, "unchanged": 0}
        assert (await run(NilImporter(), api, nil_file))["unchanged"] == 88
        assert (await run(DistrictImporter(), api, duc_file))["unchanged"] == 10
        baseline_file = OPENDATA / "nil_commerce_baseline.csv"
        assert BaselineImporter().matches(source(baseline_file)) and not BaselineImporter().matches(nil_source)
        assert await run(BaselineImporter(), api, baseline_file) == {"created": 88, "updated": 0, "unchanged": 0}
        assert (await run(BaselineImporter(), api, baseline_file))["unchanged"] == 88

        events = register_events()
        await send(settings.shops_topic, events)
        in_brera = sum(1 for e in events if e.data["status"] == "active" and e.data["nil"] == "BRERA")

        in_city = sum(e.data["status"] == "active" for e in events)

        async def register_counted() -> bool:
            kpis = await district_kpis(client, "brera")
            assert (kpis["historic_active"], kpis["population"]) == (in_brera, 18156)
            # each consumer batch moves the areas it touched, so Brera can be complete before the city is
            assert (await client.get("/districts/brera/mix")).json()["city_total"] == in_city
            return True

        await wait(register_counted, timeout_s=60, what="the whole register projected, brera included")
        nil_2 = (await client.get("/nils/2")).json()["kpis"]
        assert nil_2["historic_active"] == in_brera and nil_2["closures_30d"] == 0 and nil_2["openings_30d"] == 0

        # the mix of Brera's historic shops against the city's, and the NIL's reference snapshot beside it
        mix = (await client.get("/districts/brera/mix")).json()
        assert mix["total"] == in_brera and mix["city_total"] == in_city
        nil_mix = (await client.get("/nils/2/mix")).json()
        # the row of nil_commerce_baseline.csv: 2,BRERA,18156,1471,446,50,22,46
        assert nil_mix["baseline"]["counts"] == {
            "neighbourhood_shops": 1471,
            "bars_restaurants": 446,
            "historic_shops": 50,
            "newsstands": 22,
            "large_retail": 46,
        }
        assert nil_mix["baseline"]["per_10000"]["bars_restaurants"] == round(446 / 18156 * 10_000, 2)
        assert nil_mix["city_baseline"]["population"] > 1_300_000
        lines = ", ".join(
            f"{line['category']} {line['count']} (LQ {line['quotient']})" for line in mix["lines"] if line["city_count"]
        )
        print(
            f"\n[mix] brera: {mix['total']} active historic shops of {mix['city_total']}: {lines}; gaps {mix['gaps']}"
        )
        await api.http.aclose()


async def _population(client: httpx.AsyncClient, code: str) -> int | None:
    population: int | None = (await client.get(f"/districts/{code}")).json()["kpis"]["population"]
    return population
