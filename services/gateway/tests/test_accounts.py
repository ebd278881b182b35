"""Account management through the real gateway: revocation, sessions, login delays, audit."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devkit.testing import unique
from shared.identity import Role

from .conftest import RunningGateway

pytestmark = pytest.mark.integration
API = "/api/v1"


async def _login(client: httpx.AsyncClient, username: str, password: str, **headers: str) -> httpx.Response:
    return await client.post(f"{API}/auth/token", data={"username": username, "password": password}, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _account(gateway: RunningGateway, role: str = "commerce_office", scope: str | None = None) -> tuple[str, str]:
    username, password = unique("acct"), "a-sound-passphrase-42"
    body = {"username": username, "password": password, "role": role, "scope": scope}
    created = await gateway.client.post(f"{API}/users", json=body, headers=gateway.bearer(name="office-admin"))
    assert created.status_code == 201, created.text
    return username, password


@asynccontextmanager
async def _from_address(gateway: RunningGateway, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach the gateway from ``address`` (the ASGI client, as a proxy-free peer)."""
    transport = httpx.ASGITransport(app=gateway.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client


async def test_a_disabled_account_is_refused_at_once_and_enabled_again(gateway: RunningGateway) -> None:
    client, office = gateway.client, gateway.bearer(name="office-admin")
    username, password = await _account(gateway, "market_operator", "wagner")
    login = (await _login(client, username, password)).json()
    access, refresh = login["access_token"], login["refresh_token"]
    assert (await client.get(f"{API}/me", headers=_bearer(access))).status_code == 200

    disabled = await client.post(f"{API}/users/{username}/disable", headers=office)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    refused = await client.get(f"{API}/me", headers={**_bearer(access), "Accept-Language": "en"})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    write = await client.put(f"{API}/markets/wagner/stalls/7/status", json={"status": "open"}, headers=_bearer(access))
    assert write.status_code == 401, "a revoked token never reaches a service"
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh})).status_code == 401
    assert (await _login(client, username, password)).status_code == 401, "a disabled account cannot log in"

    listed = (await client.get(f"{API}/users", params={"limit": 500}, headers=office)).json()["items"]
    assert next(u for u in listed if u["username"] == username)["disabled"] is True
    assert (await client.post(f"{API}/users/{username}/enable", headers=office)).json()["disabled"] is False
    again = await _login(client, username, password)
    assert again.status_code == 200
    assert (await client.get(f"{API}/me", headers=_bearer(again.json()["access_token"]))).status_code == 200
    assert (await client.get(f"{API}/me", headers=_bearer(access))).status_code == 401, "old tokens stay revoked"
    listed = (await client.get(f"{API}/users", params={"limit": 500}, headers=office)).json()["items"]
    assert next(u for u in listed if u["username"] == username)["last_login_at"] is not None


async def test_the_office_cannot_disable_itself_and_others_cannot_disable_anyone(gateway: RunningGateway) -> None:
    client = gateway.client
    username, password = await _account(gateway)
    own = _bearer((await _login(client, username, password)).json()["access_token"])
    assert (await client.post(f"{API}/users/{username}/disable", headers=own)).status_code == 409
    operator = gateway.bearer(Role.MARKET_OPERATOR, "wagner")
    for action in ("disable", "enable", "unlock", "password-reset"):
        assert (await client.post(f"{API}/users/{username}/{action}", headers=operator)).status_code == 403
        assert (await client.post(f"{API}/users/{username}/{action}")).status_code == 401
        missing = await client.post(f"{API}/users/no-such-user/{action}", headers=gateway.bearer())
        assert missing.status_code == 404, (action, missing.text)
    assert (await client.patch(f"{API}/users/{username}", json={"role": "trader"}, headers=own)).status_code == 409


async def test_a_password_reset_ends_sessions_and_a_one_time_token_sets_the_new_password(
    gateway: RunningGateway,
) -> None:
    client, office = gateway.client, gateway.bearer(name="office-admin")
    username, password = await _account(gateway, "shopkeeper", "ed-demo-isola")
    access = (await _login(client, username, password)).json()["access_token"]
    reset = await client.post(f"{API}/users/{username}/password-reset", headers=office)
    assert reset.status_code == 200, reset.text
    token = reset.json()["token"]
    assert token in reset.json()["activation_url"]
    expires = datetime.fromisoformat(reset.json()["expires_at"].replace("Z", "+00:00"))
    assert timedelta(hours=71) < expires - datetime.now(UTC) <= timedelta(hours=72)
    assert (await client.get(f"{API}/me", headers=_bearer(access))).status_code == 401
    assert (await _login(client, username, password)).status_code == 401, "the old password stops working"

    weak = {
        "short-pw-1": "body.password",
        f"{username}-2026": "body.password",
        "password1234": "body.password",
    }
    for candidate, field in weak.items():
        refused = await client.post(f"{API}/auth/activate", json={"token": token, "password": candidate})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, (candidate, refused.text)
    chosen = "a-brand-new-passphrase"
    done = await client.post(f"{API}/auth/activate", json={"token": token, "password": chosen})
    assert done.status_code == 200 and done.json()["username"] == username
    again = await client.post(f"{API}/auth/activate", json={"token": token, "password": "yet-another-passphrase"})
    # a used (or expired, or unknown) link is a bad request, not bad input: 400 naming body.token (issue 16)
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "body.token", "one use only"
    assert (await _login(client, username, chosen)).status_code == 200


async def test_changing_ones_own_password(gateway: RunningGateway) -> None:
    client = gateway.client
    username, password = await _account(gateway, "trader")
    first = (await _login(client, username, password)).json()
    me = _bearer(first["access_token"])
    assert (await client.get(f"{API}/me", headers=me)).json()["role"] == "trader"
    cases = [
        ({"current_password": "not-my-password", "new_password": "a-fine-new-passphrase"}, "body.current_password"),
        ({"current_password": password, "new_password": "too-short"}, "body.new_password"),
        ({"current_password": password, "new_password": f"x{username}x"}, "body.new_password"),
        ({"current_password": password, "new_password": "qwerty123456"}, "body.new_password"),
        ({"current_password": password, "new_password": password}, "body.new_password"),
    ]
    for body, field in cases:
        refused = await client.put(f"{API}/me/password", json=body, headers=me)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, (body, refused.text)
    assert (await client.put(f"{API}/me/password", json=cases[0][0])).status_code == 401
    changed = await client.put(
        f"{API}/me/password", json={"current_password": password, "new_password": "a-fine-new-passphrase"}, headers=me
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get(f"{API}/me", headers=me)).status_code == 401, "every earlier token ends"
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})).status_code == 401
    assert (await client.get(f"{API}/me", headers=_bearer(changed.json()["access_token"]))).status_code == 200
    assert (await _login(client, username, password)).status_code == 401
    assert (await _login(client, username, "a-fine-new-passphrase")).status_code == 200


async def test_role_and_scope_changes_end_the_accounts_tokens(gateway: RunningGateway) -> None:
    client, office = gateway.client, gateway.bearer(name="office-admin")
    username, password = await _account(gateway, "market_operator", "wagner")
    access = (await _login(client, username, password)).json()["access_token"]
    refused = [
        ({"role": "shopkeeper"}, "body.scope"),  # a shopkeeper needs a shop
        ({"role": "shopkeeper", "scope": "no-such-shop"}, "body.scope"),
        ({"role": "commerce_office", "scope": "wagner"}, "body.scope"),
        ({"role": "mayor"}, "body.role"),
        ({"password": "x"}, "body.password"),
    ]
    for body, field in refused:
        answer = await client.patch(f"{API}/users/{username}", json=body, headers=office)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, (body, answer.text)
    assert (await client.get(f"{API}/me", headers=_bearer(access))).status_code == 200, "refused changes revoke nothing"
    changed = await client.patch(
        f"{API}/users/{username}", json={"role": "shopkeeper", "scope": "ed-demo-isola"}, headers=office
    )
    assert changed.status_code == 200 and changed.json()["scope"] == "ed-demo-isola", changed.text
    assert (await client.get(f"{API}/me", headers=_bearer(access))).status_code == 401
    fresh = (await _login(client, username, password)).json()["access_token"]
    assert (await client.get(f"{API}/me", headers=_bearer(fresh))).json() == {
        "username": username,
        "role": "shopkeeper",
        "scope": "ed-demo-isola",
    }
    trader = await client.patch(f"{API}/users/{username}", json={"role": "trader"}, headers=office)
    assert trader.status_code == 200 and trader.json()["scope"] is None, "a new role without scope clears it"


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(gateway: RunningGateway) -> None:
    client = gateway.client
    username, password = await _account(gateway)
    first = (await _login(client, username, password)).json()
    assert first["refresh_token"] and first["refresh_expires_in"] == gateway.settings.refresh_token_ttl_s

    second = await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    third = await client.post(f"{API}/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert third.status_code == 200
    assert (await client.get(f"{API}/me", headers=_bearer(third.json()["access_token"]))).status_code == 200

    stolen = await client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert stolen.status_code == 401, "a rotated refresh token is refused"
    after = await client.post(f"{API}/auth/refresh", json={"refresh_token": third.json()["refresh_token"]})
    assert after.status_code == 401, "its reuse ended the whole family, the newest token included"
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": "x" * 43})).status_code == 401
    assert (await client.post(f"{API}/auth/refresh")).status_code == 401


async def test_browsers_keep_the_refresh_token_in_a_strict_http_only_cookie(gateway: RunningGateway) -> None:
    username, password = await _account(gateway)
    browser = {"Sec-Fetch-Site": "same-origin"}
    async with httpx.AsyncClient(base_url=gateway.url.replace("127.0.0.1", "localhost")) as client:
        login = await _login(client, username, password, **browser)
        assert login.status_code == 200 and login.json()["refresh_token"] is None, "never in a body a script reads"
        cookie = login.headers["set-cookie"]
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/api/v1/auth"):
            assert attribute.lower() in cookie.lower(), cookie
        refresh = cookie.split(";")[0].split("=", 1)[1]
        jar = {"Cookie": f"refresh_token={refresh}", **browser}
        renewed = await client.post(f"{API}/auth/refresh", headers=jar)
        assert renewed.status_code == 200 and renewed.json()["refresh_token"] is None
        access = renewed.json()["access_token"]
        new_refresh = renewed.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        assert new_refresh != refresh

        out = await client.post(
            f"{API}/auth/logout", headers={"Cookie": f"refresh_token={new_refresh}", **_bearer(access), **browser}
        )
        assert out.status_code == 204 and "max-age=0" in out.headers["set-cookie"].lower()
        assert (await client.get(f"{API}/me", headers=_bearer(access))).status_code == 401, "logout revokes the token"
        again = await client.post(f"{API}/auth/refresh", headers={"Cookie": f"refresh_token={new_refresh}"})
        assert again.status_code == 401


async def test_failures_from_one_address_never_hold_back_the_owner_elsewhere(gateway: RunningGateway) -> None:
    username, password = await _account(gateway)
    async with _from_address(gateway, "203.0.113.7") as attacker, _from_address(gateway, "198.51.100.20") as owner:
        answers = [(await _login(attacker, username, f"guess-{n}-wrong")).status_code for n in range(7)]
        assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
        held = await _login(attacker, username, password)
        assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1
        assert (await _login(owner, username, password)).status_code == 200, "the right password from elsewhere"
        nobody = unique("ghost")
        ghost = [(await _login(attacker, nobody, "guess-wrong-1")).status_code for _ in range(6)]
        assert ghost == [401] * 5 + [429], "unknown names are slowed the same way"

        unlocked = await gateway.client.post(f"{API}/users/{username}/unlock", headers=gateway.bearer())
        assert unlocked.status_code == 200 and unlocked.json()["cleared"] == 1
        assert (await _login(attacker, username, password)).status_code == 200, "the office lifted the delay"


async def test_delays_grow_with_each_failure() -> None:
    from gateway.accounts.domain import Throttle

    throttle = Throttle(free=3, base_s=2, cap_s=60)
    delays = [throttle.delay_after(n).total_seconds() for n in range(10)]
    assert delays == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert throttle.wait(4, now - timedelta(seconds=1), now) == 3
    assert throttle.wait(4, now - timedelta(seconds=5), now) == 0
    assert throttle.wait(0, None, now) == 0


async def test_every_account_action_is_audited_without_secrets(gateway: RunningGateway) -> None:
    client = gateway.client
    admin = unique("chief")
    office = gateway.bearer(name=admin)
    started = datetime.now(UTC) - timedelta(seconds=1)
    username, password = unique("audited"), "audited-passphrase-1"
    body = {"username": username, "password": password, "role": "market_operator", "scope": "wagner"}
    assert (await client.post(f"{API}/users", json=body, headers=office)).status_code == 201
    await client.patch(f"{API}/users/{username}", json={"role": "trader"}, headers=office)
    await client.post(f"{API}/users/{username}/disable", headers=office)
    await client.post(f"{API}/users/{username}/enable", headers=office)
    await client.post(f"{API}/users/{username}/unlock", headers=office)
    reset = (await client.post(f"{API}/users/{username}/password-reset", headers=office)).json()["token"]
    await client.post(f"{API}/auth/activate", json={"token": reset, "password": "second-passphrase-2"})

    page = await client.get(f"{API}/audit", params={"actor": admin, "from": started.isoformat()}, headers=office)
    assert page.status_code == 200, page.text
    entries = page.json()["items"]
    assert [e["action"] for e in entries] == [
        "user.password_reset",
        "user.unlock",
        "user.enable",
        "user.disable",
        "user.update",
        "user.create",
    ], "newest first, only this actor"
    assert {e["target"] for e in entries} == {username} and page.json()["total"] == 6
    update = entries[4]
    assert update["before"] == {"role": "market_operator", "scope": "wagner"}
    assert update["after"] == {"role": "trader", "scope": None}
    assert entries[3]["before"] == {"disabled": False} and entries[3]["after"] == {"disabled": True}
    assert all(e["at"] and e["address"] for e in entries)
    own = (await client.get(f"{API}/audit", params={"actor": username}, headers=office)).json()["items"]
    assert [e["action"] for e in own] == ["account.activate"]

    second_page = await client.get(f"{API}/audit", params={"actor": admin, "limit": 2, "offset": 2}, headers=office)
    assert [e["action"] for e in second_page.json()["items"]] == ["user.enable", "user.disable"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await client.get(f"{API}/audit", params={"actor": admin, "from": future}, headers=office)).json()[
        "total"
    ] == 0
    exported = await client.get(f"{API}/audit.csv", params={"actor": admin}, headers=office)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["action"] for r in rows] == [e["action"] for e in entries]
    everything = (
        page.text + exported.text + (await client.get(f"{API}/audit", params={"limit": 500}, headers=office)).text
    )
    for secret in (password, "second-passphrase-2", reset, "$argon2"):
        assert secret not in everything

    naive = {"actor": admin, "from": started.replace(tzinfo=None).isoformat(), "to": future}
    assert (await client.get(f"{API}/audit", params=naive, headers=office)).json()["total"] == 6, "naive means UTC"
    bad = await client.get(f"{API}/audit", params={"from": "yesterday"}, headers=office)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.from"
    assert (
        await client.get(f"{API}/audit", headers=gateway.bearer(Role.SHOPKEEPER, "ed-demo-isola"))
    ).status_code == 403
    assert (await client.get(f"{API}/audit.csv")).status_code == 401


async def test_office_writes_relayed_to_the_services_are_audited_and_refusals_and_others_are_not(
    gateway: RunningGateway,
) -> None:
    client = gateway.client
    admin = unique("clerk")
    office = gateway.bearer(name=admin)
    shop_id = unique("shop")
    shop = {"name": "Drogheria Isola", "kind": "shop", "trade": "alimentari"}
    assert (await client.put(f"{API}/shops/{shop_id}", json=shop, headers=office)).status_code == 201
    refused = await client.post(f"{API}/markets", json={"title": "no name"}, headers=office)
    assert refused.status_code == 422, "the stand-in refuses a market without a name"
    upload = {"file": ("visura.pdf", b"%PDF-1.7 " + b"x" * 300, "application/pdf")}
    stored = await client.post(f"{API}/shops/{shop_id}/documents", files=upload, headers=office)
    assert stored.status_code == 201, stored.text
    keeper = unique("keeper")
    shopkeeper = gateway.bearer(Role.SHOPKEEPER, shop_id, name=keeper)
    added = await client.post(f"{API}/shops/{shop_id}/services", json={"name": "ritiro"}, headers=shopkeeper)
    assert added.status_code == 201, added.text
    assert (await client.get(f"{API}/shops/{shop_id}", headers=office)).status_code == 404, "a read is not audited"
    kiosk = {"name": "Edicola Isola", "kind": "newsstand", "trade": "giornali"}
    assert (await client.put(f"{API}/shops/ed-demo-isola", json=kiosk, headers=office)).status_code in (200, 201)

    entries = (await client.get(f"{API}/audit", params={"actor": admin}, headers=office)).json()["items"]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("PUT /shops/{shop_id}", "/shops/ed-demo-isola"),
        ("POST /shops/{shop_id}/documents", f"/shops/{shop_id}/documents"),
        ("PUT /shops/{shop_id}", f"/shops/{shop_id}"),
    ], "accepted office writes only, newest first"
    changed, document, written = entries
    # the kiosk as its service showed it just before: the fields the write sent that it had
    assert changed["before"] == {"kind": "kiosk"} and changed["after"] == kiosk
    assert written["after"] == shop and written["before"] is None and written["address"]
    assert document["after"]["content_type"] == "multipart/form-data" and document["after"]["bytes"] > 300
    assert "%PDF" not in str(document), "a file's bytes stay out of the log"
    assert (await client.get(f"{API}/audit", params={"actor": keeper}, headers=office)).json()["total"] == 0
