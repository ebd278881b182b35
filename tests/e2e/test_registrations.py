"""A shopkeeper's account from request to first login, on the whole platform as real processes.

The platform is the default local configuration (``devkit.testing.platform``): the gateway mails
through the stack's SMTP sink, and the proposed shop is created in the real shops service.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from devkit.stack.mail_sink import text_of
from devkit.testing import Platform, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
API = "/api/v1"
OFFICE = {"username": "office", "password": "office-demo"}
LINK = re.compile(r"https?://\S+/activate\?token=\S+")


def _claims(access_token: str) -> dict[str, Any]:
    payload = access_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def _login(client: httpx.AsyncClient, username: str, password: str) -> str:
    answer = await client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _request(role: str, shop: Any = None) -> dict[str, Any]:
    username = unique(role)
    body = {"role": role, "username": username, "email": f"{username}@example.org", "full_name": "Luca Bianchi"}
    return body | ({"shop": shop} if shop is not None else {})


@pytest.fixture
async def client(platform: Platform) -> Any:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


async def test_a_proposed_shop_and_its_shopkeeper_from_request_to_first_login(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    office = {"Authorization": f"Bearer {await _login(client, **OFFICE)}"}
    shop = {
        "name": "Bottega del Pane",
        "address": "Via Thaon di Revel 3",
        "kind": "shop",
        "trade": "panetteria",
        "location": {"lon": 9.1903, "lat": 45.4899},
    }
    body = _request("shopkeeper", shop) | {"message": "Vorrei registrare i servizi della mia bottega."}
    submitted = await client.post(f"{API}/registrations", json=body)
    assert submitted.status_code == 202, submitted.text
    registration_id = submitted.json()["id"]

    assert (await client.get(f"{API}/registrations")).status_code == 401, "anonymous callers cannot list"
    pending = await client.get(f"{API}/registrations", params={"state": "pending", "limit": 500}, headers=office)
    listed = next(r for r in pending.json()["items"] if r["id"] == registration_id)
    shop_id = listed["proposed_shop_id"]
    assert listed["message"] == body["message"] and listed["shop"]["name"] == "Bottega del Pane"

    # an earlier approval that created the shop and then failed: approving again finds that shop
    earlier = {key: shop[key] for key in ("kind", "name", "trade", "address", "location")}
    made = await client.put(f"{API}/shops/{shop_id}", json=earlier, headers=office)
    assert made.status_code == 201, made.text

    approved = await client.post(f"{API}/registrations/{registration_id}/approve", headers=office)
    assert approved.status_code == 200, approved.text
    assert approved.json()["mail"] == "sent" and approved.json()["scope"] == shop_id
    again = await client.post(f"{API}/registrations/{registration_id}/approve", headers=office)
    assert again.status_code == 409, again.text
    created = await client.get(f"{API}/shops/{shop_id}")
    assert created.status_code == 200 and created.json()["name"] == "Bottega del Pane", created.text

    mail = await platform.mailbox.wait_for(body["email"], timeout_s=30)
    links = LINK.findall(text_of(mail))
    assert links and set(links) == {approved.json()["activation_url"]}, links
    link = urlsplit(links[0])
    assert f"{link.scheme}://{link.netloc}" == platform.gateway, "the mailed link points at the gateway"
    page = await client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and 'id="activate-form"' in page.text
    token = link.query.removeprefix("token=")

    weak = await client.post(f"{API}/auth/activate", json={"token": token, "password": "password1234"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "body.password", weak.text
    chosen = "farina-lievito-acqua-sale"
    done = await client.post(f"{API}/auth/activate", json={"token": token, "password": chosen})
    assert done.status_code == 200, done.text
    used = await client.post(f"{API}/auth/activate", json={"token": token, "password": "un-altra-password-buona"})
    assert used.status_code == 400 and used.json()["errors"][0]["field"] == "body.token", used.text

    access = await _login(client, body["username"], chosen)
    claims = _claims(access)
    assert (claims["sub"], claims["role"], claims["scope"]) == (body["username"], "shopkeeper", shop_id)
    mine = {"Authorization": f"Bearer {access}"}
    assert (await client.get(f"{API}/me", headers=mine)).json() == {
        "username": body["username"],
        "role": "shopkeeper",
        "scope": shop_id,
    }
    hours = [{"day": 1, "opens": "07:30", "closes": "13:00"}]
    offered = await client.post(
        f"{API}/shops/{shop_id}/services", json={"service": "ritiro_pacchi", "hours": hours}, headers=mine
    )
    assert offered.status_code == 201, offered.text

    audit = (await client.get(f"{API}/audit", params={"actor": "office"}, headers=office)).json()["items"]
    assert any(
        e["action"] == "registration.approve" and e["target"] == f"registration:{registration_id}" for e in audit
    )


async def test_a_trader_and_a_shopkeeper_of_an_existing_shop(platform: Platform, client: httpx.AsyncClient) -> None:
    office = {"Authorization": f"Bearer {await _login(client, **OFFICE)}"}
    unknown = await client.post(f"{API}/registrations", json=_request("shopkeeper", unique("nessuno")))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.shop", unknown.text

    shop_id = unique("edicola")
    body = {"id": shop_id, "kind": "kiosk", "name": "Edicola Stazione", "location": {"lon": 9.2, "lat": 45.48}}
    assert (await client.post(f"{API}/shops", json=body, headers=office)).status_code == 201
    for request, scope in ((_request("shopkeeper", shop_id), shop_id), (_request("trader"), None)):
        submitted = await client.post(f"{API}/registrations", json=request)
        assert submitted.status_code == 202, submitted.text
        approved = await client.post(f"{API}/registrations/{submitted.json()['id']}/approve", headers=office)
        assert approved.status_code == 200 and approved.json()["scope"] == scope, approved.text
        link = LINK.findall(text_of(await platform.mailbox.wait_for(request["email"], timeout_s=30)))[0]
        password = "una-password-lunga-abbastanza"
        token = urlsplit(link).query.removeprefix("token=")
        assert (
            await client.post(f"{API}/auth/activate", json={"token": token, "password": password})
        ).status_code == 200
        claims = _claims(await _login(client, request["username"], password))
        assert (claims["role"], claims.get("scope")) == (request["role"], scope)
