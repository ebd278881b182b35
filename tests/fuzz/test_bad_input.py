"""Targeted bad input: oversized and deeply nested bodies, wrong content types, broken GeoJSON, and
MongoDB operators in every field of every write body and in the queries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from devkit.testing import Platform, unique

pytestmark = pytest.mark.integration

API = "/api/v1"
OPERATOR = {"$gt": ""}
MARKET = {"name": "Mercato", "address": "Via Due 2", "municipio": 4, "location": {"lon": 9.21, "lat": 45.45}}


def _is_problem(answer: httpx.Response) -> bool:
    return answer.headers.get("content-type", "").startswith("application/problem+json")


def _square(lon: float, lat: float, half: float = 0.01) -> list[list[float]]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return [*ring, ring[0]]


async def test_oversized_bodies_are_refused_with_413(
    platform: Platform, gateway: httpx.AsyncClient, office: dict[str, str]
) -> None:
    huge = json.dumps({**MARKET, "id": unique("grande"), "notes": "x" * 1_500_000}).encode()

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 64_000):
            yield huge[start : start + 64_000]

    headers = {**office, "Content-Type": "application/json"}
    answers = [
        await gateway.post(f"{API}/markets", content=huge, headers=headers),
        await gateway.post(f"{API}/markets", content=streamed(), headers=headers),
        await gateway.post(f"{platform.url('markets')}/markets", content=huge, headers=headers),
        await gateway.post(f"{platform.url('districts')}/districts", content=streamed(), headers=headers),
    ]
    assert [a.status_code for a in answers] == [413] * 4, [a.text[:100] for a in answers]
    assert all(_is_problem(a) for a in answers)
    long_field = await gateway.post(
        f"{API}/markets", json={**MARKET, "id": unique("lungo"), "name": "n" * 500_000}, headers=office
    )
    assert long_field.status_code == 422 and _is_problem(long_field)
    assert long_field.json()["errors"][0]["field"] == "body.name"


@pytest.mark.parametrize("depth", [64, 5_000, 200_000])
async def test_deeply_nested_json_is_refused_without_a_server_error(
    platform: Platform, gateway: httpx.AsyncClient, office: dict[str, str], depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"code": "profondo", "name": "Profondo", "perimeter": {{"type": "Polygon", "coordinates": {nested}}}}}'
    headers = {**office, "Content-Type": "application/json"}
    statuses = []
    for url in (f"{API}/districts", f"{platform.url('districts')}/districts", f"{API}/markets"):
        answer = await gateway.post(url, content=body.encode(), headers=headers)
        assert answer.status_code in (400, 413, 422), (url, answer.status_code, answer.text[:200])
        assert _is_problem(answer)
        statuses.append(answer.status_code)
    print(f"\n[nesting] depth {depth}: answers {statuses}")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "image/png",
    ],
)
async def test_a_json_body_under_another_content_type_is_not_accepted(
    gateway: httpx.AsyncClient, office: dict[str, str], content_type: str
) -> None:
    market = unique("tipo")
    body = json.dumps({**MARKET, "id": market}).encode()
    answer = await gateway.post(f"{API}/markets", content=body, headers={**office, "Content-Type": content_type})
    assert answer.status_code in (415, 422), (content_type, answer.status_code, answer.text[:200])
    assert _is_problem(answer)
    print(f"\n[content type] {content_type}: {answer.status_code}")
    assert (await gateway.get(f"{API}/markets/{market}")).status_code == 404
    login = await gateway.post(f"{API}/auth/token", json={"username": "office", "password": "office-demo"})
    assert login.status_code == 422 and _is_problem(login)


BROKEN_PERIMETERS: dict[str, Any] = {
    "ring not closed": {"type": "Polygon", "coordinates": [_square(9.1, 45.4)[:-1]]},
    "three positions": {"type": "Polygon", "coordinates": [[[9.1, 45.4], [9.2, 45.4], [9.1, 45.4]]]},
    "self-crossing": {"type": "Polygon", "coordinates": [[[9, 45], [9.1, 45.1], [9.1, 45], [9, 45.1], [9, 45]]]},
    "latitude beyond the pole": {"type": "Polygon", "coordinates": [[[9, 45], [9.1, 95], [9.1, 45], [9, 45]]]},
    "positions as text": {
        "type": "Polygon",
        "coordinates": [[["9", "45"], ["9.1", "45"], ["9.1", "45.1"], ["9", "45"]]],
    },
    "a point": {"type": "Point", "coordinates": [9.1, 45.4]},
    "no type": {"coordinates": [_square(9.1, 45.4)]},
    "empty multipolygon": {"type": "MultiPolygon", "coordinates": []},
    "feature instead of geometry": {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [_square(9, 45)]},
    },
    "one number per position": {"type": "Polygon", "coordinates": [[[9], [9.1], [9.2], [9]]]},
    "not an object": "POLYGON((9 45, 9.1 45, 9.1 45.1, 9 45))",
}


async def test_invalid_geojson_perimeters_are_refused_naming_the_field(
    gateway: httpx.AsyncClient, office: dict[str, str]
) -> None:
    for name, perimeter in BROKEN_PERIMETERS.items():
        for method, path, body in (
            ("POST", f"{API}/districts", {"code": unique("geo"), "name": "Geo", "perimeter": perimeter}),
            ("POST", f"{API}/nils", {"id": 9001, "name": "Geo", "population": 1, "perimeter": perimeter}),
        ):
            answer = await gateway.request(method, path, json=body, headers=office)
            assert answer.status_code == 422 and _is_problem(answer), (
                name,
                path,
                answer.status_code,
                answer.text[:200],
            )
            fields = [e["field"] for e in answer.json()["errors"]]
            assert any(f.startswith("body.perimeter") for f in fields), (name, fields)
    not_a_number = b'{"code": "nan", "name": "NaN", "perimeter": {"type": "Polygon", "coordinates": [[[NaN, 45], [9.1, 45], [9.1, 45.1], [NaN, 45]]]}}'
    answer = await gateway.post(
        f"{API}/districts", content=not_a_number, headers={**office, "Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and _is_problem(answer), answer.text[:200]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _json_bodies(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                found.append((method.upper(), path, _resolve(spec, content["application/json"]["schema"])))
    return found


async def test_an_operator_in_any_field_of_any_write_body_is_refused_naming_the_field(
    gateway: httpx.AsyncClient, office: dict[str, str]
) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    bodies = _json_bodies(spec)
    assert len(bodies) >= 15, [f"{m} {p}" for m, p, _ in bodies]
    tried, failures = 0, []
    for method, template, schema in bodies:
        path = "/".join("x1" if s.startswith("{") else s for s in template.split("/"))
        for field in schema.get("properties", {}):
            answer = await gateway.request(method, path, json={field: OPERATOR}, headers=office)
            tried += 1
            fields = [e["field"] for e in answer.json().get("errors", [])] if _is_problem(answer) else []
            if answer.status_code != 422 or not any(f.split(".")[:2] == ["body", field] for f in fields):
                failures.append(f"{method} {template} {field}: {answer.status_code} {fields or answer.text[:120]}")
    assert not failures, "\n".join(failures)
    print(
        f"\n[operators in bodies] write bodies {len(bodies)}, fields given {{'$gt': ''}} {tried}, refused 422 {tried}"
    )


async def test_operators_in_queries_and_paths_never_widen_a_result(
    gateway: httpx.AsyncClient, office: dict[str, str]
) -> None:
    word = unique("unico")
    for name in (f"Bottega {word}", "Cartoleria Centrale"):
        body = {"kind": "shop", "name": name, "location": {"lon": 9.18, "lat": 45.46}}
        assert (await gateway.post(f"{API}/shops", json=body, headers=office)).status_code == 201

    async def total(query: str) -> int:
        answer = await gateway.get(f"{API}/shops?{query}")
        assert answer.status_code == 200, (query, answer.text[:200])
        count: int = answer.json()["total"]
        return count

    everything = await total("limit=1")
    assert everything >= 2 and await total(f"q={word}") == 1
    for literal in ('{"$ne": null}', '{"$gt": ""}', '{"$regex": ".*"}', ".*", "$where", "'; return true; '"):
        assert await total(f"q={quote(literal)}") == 0, literal
        assert await total(f"nil={quote(literal)}") == 0, literal
    for ignored in ("q[$ne]=x", "q[$regex]=.*", "kind[$ne]=kiosk", "status[$in][]=closed"):
        assert await total(ignored) == everything, ignored
    refused = [
        f"{API}/shops?kind={quote(json.dumps(OPERATOR))}",
        f"{API}/markets?municipio={quote(json.dumps({'$gt': 0}))}",
        f"{API}/services/nearest?service={quote(json.dumps({'$ne': ''}))}&lon=9.18&lat=45.46",
        f"{API}/districts/x/alerts?state={quote(json.dumps({'$ne': 'open'}))}",
    ]
    for url in refused:
        answer = await gateway.get(url)
        assert answer.status_code == 422 and _is_problem(answer), (url, answer.status_code)
    for resource in ("markets", "shops", "districts", "calls", "nils"):
        answer = await gateway.get(f"{API}/{resource}/{quote(json.dumps(OPERATOR))}")
        assert answer.status_code in (404, 422) and _is_problem(answer), (resource, answer.status_code)
    login = await gateway.post(
        f"{API}/auth/token", data={"username": json.dumps(OPERATOR), "password": json.dumps(OPERATOR)}
    )
    assert login.status_code == 401 and _is_problem(login)
