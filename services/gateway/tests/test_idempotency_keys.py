"""Idempotency keys at the gateway: which POSTs take one (the merged OpenAPI, against a table), the
relay passing the header on, and the gateway's own creations (registrations, accounts) answered once."""

from __future__ import annotations

import importlib
import uuid
from typing import Any

import pytest
from gateway.access import AccessPolicy
from gateway.contracts.openapi import merge
from gateway.main import create_app

from devkit.testing import unique
from shared.identity import Role

from .conftest import RunningGateway, Upstreams

API = "/api/v1"
HEADER = "Idempotency-Key"

# every POST that creates something takes a key
KEYED = {
    "/auth/token": False,  # a login: its answer holds tokens, never stored
    "/auth/refresh": False,
    "/auth/logout": False,
    "/auth/activate": False,
    "/users": True,
    # the office's actions on an account: doing one again changes nothing more; a password reset's
    # answer carries a one-time link, stored only by its hash
    "/users/{username}/enable": False,
    "/users/{username}/disable": False,
    "/users/{username}/unlock": False,
    "/users/{username}/password-reset": False,
    "/registrations": True,
    # the answer carries the one-time activation link, which is stored only by its hash; a retry is
    # answered 409 (already decided) and the office sends a new link with a password reset
    "/registrations/{registration_id}/approve": False,
    "/registrations/{registration_id}/reject": False,  # a decision: a retry is refused, already decided
    # the upload is read only once the caller is known to be the office; a retry's duplicate is
    # harmless (an import writes through the public API and reports rows as unchanged)
    "/imports": False,
    "/markets": True,
    "/markets/{market_id}/stalls": True,
    "/markets/{market_id}/spaces": True,
    "/markets/{market_id}/spaces/{code}/bookings": True,
    "/markets/{market_id}/calls": True,
    "/calls/{call_id}/applications": True,
    "/calls/{call_id}/evaluations": True,
    "/calls/{call_id}/award": True,
    "/markets/{market_id}/stalls/{number}/assignment": True,
    "/concessions/{concession_id}/renew": True,
    "/concessions/{concession_id}/transfer": True,
    "/concessions/{concession_id}/revoke": False,  # ends a concession: a retry is refused, not active
    "/markets/{market_id}/spunta/{date}/candidates": True,
    "/markets/{market_id}/spunta/{date}/assign": True,
    "/shops": True,
    "/shops/{shop_id}/services": True,
    "/shops/{shop_id}/recognition": True,
    "/shops/{shop_id}/recognition/decision": False,  # a decision on the application, under If-Match
    "/shops/{shop_id}/closures": True,
    "/shops/{shop_id}/documents": True,
    "/interventions": True,
    # create-or-replace with a code of the caller's: a retry finds its own district (409) or NIL
    # (200); their answers are read after the write, outside its transaction
    "/districts": False,
    "/nils": False,
    "/districts/rebuild": False,  # one rebuild at a time: a retry is answered 409 with the running job
    "/districts/{code}/alerts/{alert_id}/acknowledge": False,  # again changes nothing
}


def merged_openapi() -> dict[str, Any]:
    specs = {}
    for name in ("markets", "shops", "districts"):
        try:
            specs[name] = importlib.import_module(f"{name}.main").create_app().openapi()
        except ImportError as exc:
            pytest.skip(f"the {name} service cannot be imported here: {exc}")
    return merge(create_app().openapi(), specs, [], AccessPolicy())


def test_every_post_that_creates_takes_an_idempotency_key() -> None:
    posts = {
        path.removeprefix(API): operation
        for path, item in merged_openapi()["paths"].items()
        for method, operation in item.items()
        if method == "post"
    }
    assert set(posts) == set(KEYED), f"POST routes not in the table: {sorted(set(posts) ^ set(KEYED))}"
    for path, operation in posts.items():
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert (HEADER in headers) is KEYED[path], path
        if KEYED[path]:
            assert {"409", "422"} <= set(operation["responses"]), path


@pytest.mark.integration
async def test_the_relay_passes_the_key_on_and_sends_a_post_once(gateway: RunningGateway, upstreams: Upstreams) -> None:
    key = f'"{uuid.uuid4()}"'
    before = upstreams.count("POST", "/markets")
    answer = await gateway.client.post(
        f"{API}/markets", json={"name": unique("keyed")}, headers={**gateway.bearer(), HEADER: key}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["idempotency_key"] == key
    assert upstreams.count("POST", "/markets") == before + 1


@pytest.mark.integration
async def test_a_replayed_answer_is_not_audited_again(gateway: RunningGateway) -> None:
    clerk = unique("clerk")
    headers = {**gateway.bearer(name=clerk), HEADER: f'"{uuid.uuid4()}"'}
    body = {"name": unique("mercato")}
    first = await gateway.client.post(f"{API}/markets", json=body, headers=headers)
    again = await gateway.client.post(f"{API}/markets", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    audit = await gateway.client.get(f"{API}/audit", params={"actor": clerk}, headers=gateway.bearer())
    assert [e["action"] for e in audit.json()["items"]] == ["POST /markets"]


def registration() -> dict[str, Any]:
    username = unique("edicolante")
    return {
        "role": "trader",
        "username": username,
        "email": f"{username}@example.org",
        "full_name": "Luca Bianchi",
        "message": "Banco di frutta al mercato Wagner.",
    }


@pytest.mark.integration
async def test_an_anonymous_registration_retried_with_its_key_is_recorded_once(gateway: RunningGateway) -> None:
    body, key = registration(), {HEADER: f'"{uuid.uuid4()}"'}
    first = await gateway.client.post(f"{API}/registrations", json=body, headers=key)
    again = await gateway.client.post(f"{API}/registrations", json=body, headers=key)
    assert first.status_code == again.status_code == 202, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await gateway.client.post(f"{API}/registrations", json=registration(), headers=key)
    assert other.status_code == 422 and other.json()["header"] == HEADER
    page = await gateway.client.get(
        f"{API}/registrations", params={"limit": 500, "state": "pending"}, headers=gateway.bearer()
    )
    assert [r["username"] for r in page.json()["items"]].count(body["username"]) == 1


@pytest.mark.integration
async def test_an_account_created_again_with_its_key_gets_the_first_answer(gateway: RunningGateway) -> None:
    body = {"username": unique("ufficio"), "password": "una-password-lunga-2026", "role": Role.OFFICE.value}
    headers = {**gateway.bearer(), HEADER: f'"{uuid.uuid4()}"'}
    first = await gateway.client.post(f"{API}/users", json=body, headers=headers)
    again = await gateway.client.post(f"{API}/users", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    without = await gateway.client.post(f"{API}/users", json=body, headers=gateway.bearer())
    assert without.status_code == 409, "without the key, the same account again is a conflict"
