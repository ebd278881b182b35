"""Self-registration through a real gateway, its database and a real SMTP sink, in front of the
stand-in shops service: answers that tell nothing about accounts, validation, the office's
decisions, mail (also when it cannot be sent), expired and wrong links, throttling per address.

The whole journey against the real shops service is in ``tests/e2e/test_registrations.py``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devkit.stack.mail_sink import text_of
from devkit.stack.processes import free_port
from devkit.testing import LocalKafka, LocalMail, LocalMongo, unique
from shared.identity import Role

from .conftest import Configure, RunningGateway, Upstreams, gateway_settings, running_gateway

pytestmark = pytest.mark.integration
API = "/api/v1"
PUBLIC_URL = "https://commercio.example"
LOCATION = {"lon": 9.19, "lat": 45.48}


def proposal(name: str = "Drogheria Çà Granda", kind: str = "shop") -> dict[str, Any]:
    return {"name": name, "address": "Via Borsieri 12", "kind": kind, "trade": "drogheria", "location": LOCATION}


def request_for(role: str = "shopkeeper", shop: Any = None, **fields: Any) -> dict[str, Any]:
    username = unique("negoziante")
    body = {
        "role": role,
        "username": username,
        "email": f"{username}@example.org",
        "full_name": "Maria Rossi",
        "message": "Gestisco la drogheria dal 1998.",
        **fields,
    }
    if shop is not None:
        body["shop"] = shop
    return body


@pytest.fixture(scope="module")
async def gateway(
    kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams, mail_sink: LocalMail
) -> AsyncIterator[RunningGateway]:
    """A gateway of this module's own that mails through the SMTP sink."""
    settings = gateway_settings(kafka, mongo, upstreams, smtp_url=mail_sink.url, public_url=PUBLIC_URL)
    async with running_gateway(settings) as running:
        yield running


async def _register(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    answer = await client.post(f"{API}/registrations", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def _listed(gateway: RunningGateway, registration_id: str, state: str | None = None) -> dict[str, Any]:
    params = {"limit": 500, **({"state": state} if state else {})}
    page = await gateway.client.get(f"{API}/registrations", params=params, headers=gateway.bearer())
    assert page.status_code == 200, page.text
    found = [r for r in page.json()["items"] if r["id"] == registration_id]
    assert found, f"registration {registration_id} not listed with state={state}"
    return found[0]


def _token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_the_answer_is_the_same_for_a_free_a_taken_and_a_pending_username(gateway: RunningGateway) -> None:
    client = gateway.client
    taken = unique("preso")
    created = await client.post(
        f"{API}/users",
        json={"username": taken, "password": "a-sound-passphrase-42", "role": "trader"},
        headers=gateway.bearer(),
    )
    assert created.status_code == 201, created.text
    free = request_for("trader")
    answers = [
        await client.post(f"{API}/registrations", json=free),
        await client.post(f"{API}/registrations", json=request_for("trader", username=taken)),
        await client.post(f"{API}/registrations", json={**free, "full_name": "Qualcun Altro"}),  # pending twice
    ]
    for answer in answers:
        assert answer.status_code == 202, answer.text
        assert set(answer.json()) == {"id"} and re.fullmatch(r"[0-9a-f]{32}", answer.json()["id"])
        assert answer.headers["content-type"] == answers[0].headers["content-type"]
    first, on_taken, duplicate = [await _listed(gateway, a.json()["id"], "pending") for a in answers]
    assert first["conflicts"] == [] and first["role"] == "trader" and first["scope"] is None
    assert on_taken["conflicts"] == ["username_taken"]
    assert duplicate["conflicts"] == ["duplicate_pending"]

    refused = await client.post(f"{API}/registrations/{on_taken['id']}/approve", headers=gateway.bearer())
    assert refused.status_code == 409 and "respingi" in refused.json()["detail"], refused.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (request_for("shopkeeper"), "body.shop"),
        (request_for("shopkeeper", shop="no-such-shop"), "body.shop"),
        (request_for("trader", shop="ed-demo-isola"), "body.shop"),
        (request_for("commerce_office"), "body.role"),
        (request_for("trader", email="not-an-address"), "body.email"),
        (request_for("trader", username="x"), "body.username"),
        (request_for("trader", full_name=""), "body.full_name"),
        (request_for("shopkeeper", shop={**proposal(), "location": {"lon": 9.19, "lat": 145}}), "lat"),
        (request_for("shopkeeper", shop=proposal(kind="historic")), "kind"),
        (request_for("trader", password="chosen-early-1234"), "body.password"),
    ],
)
async def test_a_bad_registration_is_refused_naming_the_field(
    gateway: RunningGateway, body: dict[str, Any], field: str
) -> None:
    answer = await gateway.client.post(f"{API}/registrations", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in answer.json()["errors"]]
    assert any(f == field or f.endswith("." + field) for f in fields), fields


async def test_the_office_approves_a_proposed_shop_and_the_link_is_mailed(
    gateway: RunningGateway, upstreams: Upstreams, mail_sink: LocalMail
) -> None:
    client, office = gateway.client, gateway.bearer(name="office-admin")
    body = request_for("shopkeeper", shop=proposal())
    registration_id = await _register(client, body)
    pending = await _listed(gateway, registration_id, "pending")
    shop_id = pending["proposed_shop_id"]
    assert re.fullmatch(rf"drogheria-ca-granda-{registration_id[:8]}", shop_id), shop_id
    assert pending["shop"]["name"] == "Drogheria Çà Granda" and pending["address"]

    approved = await client.post(f"{API}/registrations/{registration_id}/approve", headers=office)
    assert approved.status_code == 200, approved.text
    out = approved.json()
    assert out["mail"] == "sent" and out["scope"] == shop_id and out["role"] == "shopkeeper"
    assert out["activation_url"].startswith(f"{PUBLIC_URL}/activate?token=")
    assert approved.headers["cache-control"] == "no-store"
    assert upstreams.shops[shop_id] == {
        "kind": "shop",
        "name": "Drogheria Çà Granda",
        "trade": "drogheria",
        "address": "Via Borsieri 12",
        "location": LOCATION,
    }

    mail = await mail_sink.mailbox.wait_for(body["email"])
    text = text_of(mail)
    assert out["activation_url"] in text and body["username"] in text
    assert text.index("Gentile") < text.index("Dear"), "Italian first, then English"
    assert "Attiva" in mail["Subject"] and "Activate" in mail["Subject"]

    again = await client.post(f"{API}/registrations/{registration_id}/approve", headers=office)
    assert again.status_code == 409, again.text
    assert (await _listed(gateway, registration_id, "approved"))["decided_by"] == "office-admin"
    audit = (await client.get(f"{API}/audit", params={"actor": "office-admin"}, headers=office)).json()["items"]
    actions = {(e["action"], e["target"]) for e in audit}
    assert ("registration.approve", f"registration:{registration_id}") in actions
    assert ("user.create", body["username"]) in actions

    token = _token_of(out["activation_url"])
    done = await client.post(f"{API}/auth/activate", json={"token": token, "password": "una-password-sicura"})
    assert done.status_code == 200 and done.json()["scope"] == shop_id, done.text


async def test_an_approval_whose_mail_fails_still_gives_the_office_the_link(configure: Configure) -> None:
    nowhere = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    settings = configure(smtp_url=nowhere, public_url=PUBLIC_URL, smtp_attempts=2, smtp_timeout_s=2)
    async with running_gateway(settings) as gateway:
        registration_id = await _register(gateway.client, request_for("trader"))
        approved = await gateway.client.post(f"{API}/registrations/{registration_id}/approve", headers=gateway.bearer())
        assert approved.status_code == 200, approved.text
        assert approved.json()["mail"] == "failed"
        assert (await _listed(gateway, registration_id, "approved"))["state"] == "approved"
        token = _token_of(approved.json()["activation_url"])
        done = await gateway.client.post(
            f"{API}/auth/activate", json={"token": token, "password": "una-password-sicura"}
        )
        assert done.status_code == 200, done.text


async def test_without_smtp_the_office_hands_the_link_over(configure: Configure) -> None:
    async with running_gateway(configure()) as gateway:
        registration_id = await _register(gateway.client, request_for("trader"))
        approved = await gateway.client.post(f"{API}/registrations/{registration_id}/approve", headers=gateway.bearer())
        assert approved.status_code == 200 and approved.json()["mail"] == "not_configured", approved.text
        assert approved.json()["activation_url"].startswith("/activate?token=")


async def test_a_rejection_keeps_its_reason_is_mailed_and_is_final(
    gateway: RunningGateway, mail_sink: LocalMail
) -> None:
    client, office = gateway.client, gateway.bearer(name="office-admin")
    body = request_for("shopkeeper", shop="ed-demo-isola")
    registration_id = await _register(client, body)
    no_reason = await client.post(f"{API}/registrations/{registration_id}/reject", json={}, headers=office)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"
    reason = "Il negozio ha già un titolare registrato."
    rejected = await client.post(
        f"{API}/registrations/{registration_id}/reject", json={"reason": reason}, headers=office
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == "rejected" and rejected.json()["reason"] == reason
    assert rejected.json()["mail"] == "sent"
    assert reason in text_of(await mail_sink.mailbox.wait_for(body["email"]))
    listed = await _listed(gateway, registration_id, "rejected")
    assert listed["reason"] == reason and listed["decided_by"] == "office-admin"
    for action in ("approve", "reject"):
        again = await client.post(
            f"{API}/registrations/{registration_id}/{action}", json={"reason": "di nuovo"}, headers=office
        )
        assert again.status_code == 409, (action, again.text)
    users = (await client.get(f"{API}/users", params={"limit": 500}, headers=office)).json()["items"]
    assert body["username"] not in {u["username"] for u in users}, "a rejection creates no account"
    audit = (await client.get(f"{API}/audit", params={"actor": "office-admin"}, headers=office)).json()["items"]
    entry = next(e for e in audit if e["target"] == f"registration:{registration_id}")
    assert entry["action"] == "registration.reject" and entry["after"] == {"state": "rejected", "reason": reason}


async def test_only_the_office_lists_and_decides(gateway: RunningGateway) -> None:
    client = gateway.client
    registration_id = await _register(client, request_for("trader"))
    for role, scope, status in ((None, None, 401), (Role.SHOPKEEPER, "ed-demo-isola", 403), (Role.TRADER, None, 403)):
        headers = gateway.bearer(role, scope) if role else {}
        assert (await client.get(f"{API}/registrations", headers=headers)).status_code == status
        approve = await client.post(f"{API}/registrations/{registration_id}/approve", headers=headers)
        reject = await client.post(
            f"{API}/registrations/{registration_id}/reject", json={"reason": "no"}, headers=headers
        )
        assert (approve.status_code, reject.status_code) == (status, status), (role, approve.text, reject.text)
    assert (await _listed(gateway, registration_id))["state"] == "pending"
    unknown = await client.post(f"{API}/registrations/{'0' * 32}/approve", headers=gateway.bearer())
    assert unknown.status_code == 404
    bad_state = await client.get(f"{API}/registrations", params={"state": "maybe"}, headers=gateway.bearer())
    assert bad_state.status_code == 422 and bad_state.json()["errors"][0]["field"] == "query.state"


async def test_wrong_used_and_expired_links_are_refused_with_the_reason(configure: Configure) -> None:
    async with running_gateway(configure(one_time_token_ttl_s=2)) as gateway:
        client = gateway.client
        ids = [await _register(client, request_for("trader")) for _ in range(2)]
        urls = []
        for registration_id in ids:
            approved = await client.post(f"{API}/registrations/{registration_id}/approve", headers=gateway.bearer())
            assert approved.status_code == 200, approved.text
            urls.append(approved.json()["activation_url"])
        used, expiring = (_token_of(url) for url in urls)
        assert (
            await client.post(f"{API}/auth/activate", json={"token": used, "password": "prima-password-ok"})
        ).status_code == 200

        await asyncio.sleep(2.5)
        for token, reason in (
            ("x" * 43, "not valid"),
            (used, "not valid"),
            (expiring, "expired"),
        ):
            refused = await client.post(
                f"{API}/auth/activate",
                json={"token": token, "password": "un-altra-password-ok"},
                headers={"Accept-Language": "en"},
            )
            assert refused.status_code == 400, refused.text
            problem = refused.json()
            assert reason in problem["detail"] and "commerce office" in problem["detail"], problem
            assert problem["errors"][0]["field"] == "body.token"
        italian = await client.post(
            f"{API}/auth/activate", json={"token": expiring, "password": "un-altra-password-ok"}
        )
        assert "scaduto" in italian.json()["detail"]


async def test_registrations_are_throttled_per_address(configure: Configure) -> None:
    settings = configure(
        rate_limit_enabled=True,
        rate_limit_ip_burst=10_000,
        rate_limit_token_burst=10_000,
        registration_burst=2,
        registration_rate_per_hour=1,
    )
    async with running_gateway(settings) as gateway:

        @asynccontextmanager
        async def from_address(address: str) -> AsyncIterator[httpx.AsyncClient]:
            transport = httpx.ASGITransport(app=gateway.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield client

        async with from_address("192.0.2.10") as one, from_address("192.0.2.11") as other:
            for _ in range(2):
                assert (await one.post(f"{API}/registrations", json=request_for("trader"))).status_code == 202
            throttled = await one.post(f"{API}/registrations", json=request_for("trader"))
            assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1, throttled.text
            assert (await other.post(f"{API}/registrations", json=request_for("trader"))).status_code == 202
