"""Idempotency keys: the header's syntax, scoping and fingerprints, the stored answers' expiry, and
what a keyed request gets on the real database (a small service of its own)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from devkit.testing import LocalKafka, LocalMongo, eventually, issue_token, make_settings, running_app
from shared.app import Runtime, ServiceSpec, create_service_app, provide
from shared.errors import Conflict
from shared.idempotency import IDEMPOTENCY, RETENTION, IdempotencyStore, fingerprint, scope_id
from shared.identity import CurrentPrincipal, Principal, Role
from shared.mongo import Mongo
from shared.settings import ServiceSettings
from shared.web.idempotency import IDEMPOTENT, KEY_PATTERN, InvalidKey, parse_key

UUID = "8e03978e-40d5-43e8-bc93-6894a57f9324"


# the header ------------------------------------------------------------------------------


def test_a_key_is_a_structured_field_string_or_a_bare_visible_value() -> None:
    assert parse_key(f'"{UUID}"') == UUID
    assert parse_key(UUID) == UUID
    assert parse_key(' "with space and \\"quote\\"" ') == 'with space and "quote"'
    assert parse_key('"-"') == "-" and parse_key("?1") == "?1"
    assert parse_key('"' + "a" * 255 + '"') == "a" * 255


@pytest.mark.parametrize(
    "value",
    [
        "",
        '""',
        "   ",
        '"' + "a" * 256 + '"',
        "a" * 256,
        "two words",
        '"unterminated',
        '"a" "b"',
        "tab\tkey",
        '"k";note=1',  # an RFC 8941 item may carry parameters; this field takes a plain string
        '"caffè"',
        '"back\\slash"',  # a backslash inside the string must escape a quote or a backslash
    ],
)
def test_an_empty_overlong_or_malformed_key_is_refused(value: str) -> None:
    with pytest.raises(InvalidKey):
        parse_key(value)


def test_a_key_is_scoped_to_the_caller_the_method_and_the_route() -> None:
    one = scope_id("office", "POST", "/markets", UUID)
    assert one == scope_id("office", "post", "/markets", UUID)
    assert one != scope_id("another", "POST", "/markets", UUID)
    assert one != scope_id(None, "POST", "/markets", UUID)
    assert one != scope_id("office", "POST", "/markets/{market_id}/stalls", UUID)
    assert one != scope_id("office", "POST", "/markets", UUID.upper())
    # no two fields can run together into the same scope
    assert scope_id("a", "POST", "/b", "c") != scope_id("a", "POST", "/", "bc")


def test_the_fingerprint_covers_target_body_and_its_media_type() -> None:
    body = hashlib.sha256(b'{"name": "Wagner"}').digest()
    first = fingerprint("/markets", b"", "application/json", body)
    assert (
        first
        == hashlib.sha256(
            b"".join(len(p).to_bytes(8, "big") + p for p in (b"/markets", b"", b"application/json", body))
        ).hexdigest()
    )
    assert first == fingerprint("/markets", b"", "Application/JSON; charset=utf-8", body)
    assert first != fingerprint("/markets", b"", "application/json", hashlib.sha256(b'{"name": "Wagner "}').digest())
    assert first != fingerprint("/markets/x", b"", "application/json", body)
    assert first != fingerprint("/markets", b"dry=1", "application/json", body)
    assert first != fingerprint("/markets", b"", "text/plain", body)


def test_answers_expire_after_24_hours_by_a_ttl_index() -> None:
    (expiry,) = IdempotencyStore.indexes[IDEMPOTENCY]
    assert expiry.document["key"] == {"created_at": 1}
    assert expiry.document["expireAfterSeconds"] == 24 * 3600 == RETENTION.total_seconds()


# a keyed request on the real database ------------------------------------------------------


class ThingIn(BaseModel):
    name: str


class Things:
    """A use case creating documents with generated ids, as a service's would; ``hold`` keeps a
    request running until the test lets it go; ``fail_after_write`` fails a request after its write."""

    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.hold: asyncio.Event | None = None
        self.fail_after_write = False

    async def create(self, name: str) -> dict[str, Any]:
        async def work(session: Any) -> dict[str, Any]:
            doc = {"_id": hashlib.sha256(f"{name}{asyncio.get_running_loop().time()}".encode()).hexdigest()[:12]}
            doc["name"] = name
            await self.mongo.db.things.insert_one(doc, session=session)
            return doc

        created = await self.mongo.transaction(work)
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_after_write:
            raise Conflict("refused after writing")
        return {"id": created["_id"], "name": name}


router = APIRouter()
ThingsDep = Annotated[Things, Depends(provide(Things))]


@router.post("/things", status_code=201, dependencies=[IDEMPOTENT])
async def create_thing(body: ThingIn, things: ThingsDep, _: CurrentPrincipal, response: Response) -> dict[str, Any]:
    created = await things.create(body.name)
    response.headers["Location"] = f"/things/{created['id']}"
    return created


@router.post("/open-things", status_code=202, dependencies=[IDEMPOTENT])
async def create_anonymously(body: ThingIn, things: ThingsDep, request: Request) -> dict[str, Any]:
    return await things.create(body.name)


@router.post("/plain-things", status_code=201)
async def create_without_keys(body: ThingIn, things: ThingsDep) -> dict[str, Any]:
    return await things.create(body.name)


class Service:
    def __init__(self, http: httpx.AsyncClient, settings: ServiceSettings, things: Things) -> None:
        self.http, self.settings, self.things = http, settings, things

    def auth(self, username: str = "office") -> dict[str, str]:
        token = issue_token(self.settings, Principal(username=username, role=Role.OFFICE), timedelta(minutes=5))
        return {"Authorization": f"Bearer {token}"}

    async def count(self, name: str) -> int:
        return await self.things.mongo.db.things.count_documents({"name": name})


@pytest.fixture
async def service(kafka: LocalKafka, mongo: LocalMongo) -> AsyncIterator[Service]:
    settings = make_settings(ServiceSettings, kafka, mongo, idempotency_lease_s=2.0)
    things: list[Things] = []

    async def wire(runtime: Runtime) -> None:
        things.append(Things(runtime.mongo))
        runtime.provide(things[0])

    spec = ServiceSpec(
        name="things", title="Things", description="", routers=[router], indexes={"things": []}, wire=wire
    )
    app = create_service_app(spec, settings)
    async for client in running_app(app):
        yield Service(client, settings, things[0])


def keyed(key: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or {}), "Idempotency-Key": f'"{key}"'}


@pytest.mark.integration
async def test_a_retry_gets_the_first_answer_and_creates_nothing(service: Service) -> None:
    first = await service.http.post("/things", json={"name": "stall"}, headers=keyed(UUID, service.auth()))
    again = await service.http.post("/things", json={"name": "stall"}, headers=keyed(UUID, service.auth()))
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await service.count("stall") == 1
    stored = await service.things.mongo.db[IDEMPOTENCY].find_one()
    assert stored is not None and stored["state"] == "answered" and stored["status"] == 201


@pytest.mark.integration
async def test_keys_are_the_callers_own_and_requests_without_one_are_unchanged(service: Service) -> None:
    mine = await service.http.post("/things", json={"name": "kiosk"}, headers=keyed(UUID, service.auth("office")))
    theirs = await service.http.post("/things", json={"name": "kiosk"}, headers=keyed(UUID, service.auth("other")))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"] and "idempotent-replayed" not in theirs.headers
    plain = [await service.http.post("/things", json={"name": "kiosk"}, headers=service.auth()) for _ in range(2)]
    assert [p.status_code for p in plain] == [201, 201]
    # a route that does not take keys ignores the header
    ignored = [await service.http.post("/plain-things", json={"name": "kiosk"}, headers=keyed(UUID)) for _ in range(2)]
    assert [i.status_code for i in ignored] == [201, 201] and "idempotent-replayed" not in ignored[1].headers
    assert await service.count("kiosk") == 6


@pytest.mark.integration
async def test_an_anonymous_route_scopes_the_key_alone(service: Service) -> None:
    first = await service.http.post("/open-things", json={"name": "registration"}, headers=keyed(UUID))
    again = await service.http.post("/open-things", json={"name": "registration"}, headers=keyed(UUID))
    assert first.status_code == again.status_code == 202 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await service.count("registration") == 1


@pytest.mark.integration
async def test_a_key_reused_with_another_body_is_refused_with_422(service: Service) -> None:
    await service.http.post("/things", json={"name": "space"}, headers=keyed(UUID, service.auth()))
    other = await service.http.post(
        "/things", json={"name": "another space"}, headers=keyed(UUID, {**service.auth(), "Accept-Language": "en"})
    )
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    problem = other.json()
    assert problem["header"] == "Idempotency-Key" and "Idempotency-Key" in problem["detail"]
    assert problem["type"].endswith("/idempotency-key-reused")
    assert await service.count("another space") == 0


@pytest.mark.integration
async def test_a_malformed_key_is_refused_with_422_naming_the_header(service: Service) -> None:
    for value in ['""', '"' + "k" * 256 + '"', "two words"]:
        answer = await service.http.post(
            "/things", json={"name": "bad key"}, headers={**service.auth(), "Idempotency-Key": value}
        )
        assert answer.status_code == 422, value
        assert [e["field"] for e in answer.json()["errors"]] == ["header.Idempotency-Key"]
    assert await service.count("bad key") == 0


@pytest.mark.integration
async def test_a_retry_while_the_first_runs_gets_409_and_then_the_first_answer(service: Service) -> None:
    service.things.hold = asyncio.Event()
    first = asyncio.create_task(
        service.http.post("/things", json={"name": "booking"}, headers=keyed(UUID, service.auth()))
    )
    await eventually(lambda: service.things.mongo.db[IDEMPOTENCY].count_documents({}), 10, "the first request running")
    during = await service.http.post("/things", json={"name": "booking"}, headers=keyed(UUID, service.auth()))
    assert during.status_code == 409 and during.json()["type"].endswith("/idempotency-key-in-use")
    assert int(during.headers["retry-after"]) >= 1
    # the first request's write is held until its answer is stored with it
    assert await service.count("booking") == 0
    service.things.hold.set()
    answered = await first
    after = await service.http.post("/things", json={"name": "booking"}, headers=keyed(UUID, service.auth()))
    assert answered.status_code == after.status_code == 201 and after.content == answered.content
    assert await service.count("booking") == 1


@pytest.mark.integration
async def test_an_error_answer_keeps_nothing_and_frees_the_key(service: Service) -> None:
    service.things.fail_after_write = True
    failed = await service.http.post("/things", json={"name": "closure"}, headers=keyed(UUID, service.auth()))
    assert failed.status_code == 409 and failed.json()["type"].endswith("/conflict")
    assert await service.count("closure") == 0, "a write of a request that failed must not be kept"
    service.things.fail_after_write = False
    retried = await service.http.post("/things", json={"name": "closure"}, headers=keyed(UUID, service.auth()))
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert await service.count("closure") == 1


@pytest.mark.integration
async def test_a_key_whose_first_request_died_is_taken_over_after_its_lease(service: Service) -> None:
    store = IdempotencyStore(service.things.mongo.db, timedelta(seconds=service.settings.idempotency_lease_s))
    key_id = scope_id("office", "POST", "/things", UUID)
    print_ = fingerprint("/things", b"", "application/json", hashlib.sha256(b'{"name":"dead"}').digest())
    assert type(await store.claim(key_id, print_, "a process that then died")).__name__ == "Claimed"
    headers = {**keyed(UUID, service.auth()), "Content-Type": "application/json"}
    busy = await service.http.post("/things", content=b'{"name":"dead"}', headers=headers)
    assert busy.status_code == 409
    await asyncio.sleep(service.settings.idempotency_lease_s)
    taken = await service.http.post("/things", content=b'{"name":"dead"}', headers=headers)
    assert taken.status_code == 201 and await service.count("dead") == 1


@pytest.mark.integration
async def test_every_service_creates_the_collection_at_bootstrap(service: Service) -> None:
    db = service.things.mongo.db
    assert IDEMPOTENCY in await db.list_collection_names()
    indexes = {ix["name"]: ix async for ix in await db[IDEMPOTENCY].list_indexes()}
    assert indexes["expiry"]["expireAfterSeconds"] == 86400


def test_the_header_is_documented_on_the_routes_that_take_it() -> None:
    spec = ServiceSpec(name="things", title="Things", description="", routers=[router])
    document = create_service_app(spec, ServiceSettings()).openapi()
    keyed_route = document["paths"]["/things"]["post"]
    assert [p["name"] for p in keyed_route["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert {"409", "422"} <= set(keyed_route["responses"])
    (header,) = [p for p in keyed_route["parameters"] if p["in"] == "header"]
    assert not header["required"] and header["schema"]["anyOf"][0]["pattern"] == KEY_PATTERN
    plain = document["paths"]["/plain-things"]["post"]
    assert not [p for p in plain.get("parameters", []) if p["in"] == "header"]
