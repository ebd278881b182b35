"""Signing keys: the JWKS, rotation, and a real service that fetches keys and revocations from the gateway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import jwt
import pytest
from gateway.main import create_app
from markets.main import create_app as create_markets
from markets.settings import MarketsSettings

from devkit.stack.processes import free_port
from devkit.testing import LocalKafka, LocalMongo, issue_token, make_settings, signer_for, unique
from shared.identity import Principal, Role
from shared.tokens import generate_private_pem

from .conftest import Upstreams, gateway_settings, serve

pytestmark = pytest.mark.integration
API = "/api/v1"


async def _eventually(check: Callable[[], Awaitable[bool]], within_s: float) -> float:
    """Seconds until ``check`` holds; fails after ``within_s``."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within_s, f"not within {within_s} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_keys_rotate_and_a_service_follows_keys_and_revocations(
    kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams
) -> None:
    key_a, key_b = generate_private_pem(), generate_private_pem()
    port = free_port()
    base = gateway_settings(kafka, mongo, upstreams, jwt_private_key=key_a, revocation_poll_s=0.5)
    markets_settings = make_settings(
        MarketsSettings,
        kafka,
        mongo,
        events_topic=unique("markets.events"),
        jwt_public_keys=None,
        gateway_url=f"http://127.0.0.1:{port}",
        revocation_poll_s=0.5,
        token_keys_refresh_s=1.0,
    )
    office_a = issue_token(None, Principal(username="admin", role=Role.OFFICE), timedelta(minutes=5), signer_for(key_a))
    username, password = unique("keys"), "rotation-passphrase-1"

    async with (
        serve(create_markets(markets_settings)) as markets_url,
        httpx.AsyncClient(base_url=markets_url) as markets,
    ):

        async def service_answer(token: str) -> int:
            # an office write with an empty body: 422 once the token is accepted, 401 when refused
            return (await markets.post("/markets", json={}, headers={"Authorization": f"Bearer {token}"})).status_code

        # 1. key A only
        async with serve(create_app(base), port) as url, httpx.AsyncClient(base_url=url) as gw:
            jwks = (await gw.get("/.well-known/jwks.json")).json()
            assert [k["kid"] for k in jwks["keys"]] == [signer_for(key_a).kid]
            assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in jwks["keys"])
            body = {"username": username, "password": password, "role": "commerce_office"}
            created = await gw.post(f"{API}/users", json=body, headers={"Authorization": f"Bearer {office_a}"})
            assert created.status_code == 201, created.text
            token_a = (await gw.post(f"{API}/auth/token", data={"username": username, "password": password})).json()[
                "access_token"
            ]
            assert _kid(token_a) == signer_for(key_a).kid
            await _eventually(lambda: _is(service_answer(token_a), 422), 15)

        # 2. rotated: key B signs, key A is still published and accepted
        rotated = base.model_copy(update={"jwt_private_key": key_b, "jwt_previous_keys": key_a})
        async with serve(create_app(rotated), port) as url, httpx.AsyncClient(base_url=url) as gw:
            jwks = (await gw.get("/.well-known/jwks.json")).json()
            assert [k["kid"] for k in jwks["keys"]] == [signer_for(key_b).kid, signer_for(key_a).kid]
            assert (await gw.get(f"{API}/me", headers={"Authorization": f"Bearer {token_a}"})).status_code == 200
            token_b = (await gw.post(f"{API}/auth/token", data={"username": username, "password": password})).json()[
                "access_token"
            ]
            assert _kid(token_b) == signer_for(key_b).kid, "new tokens carry the new key's id"
            assert await service_answer(token_b) == 422, "a new kid makes the service fetch the keys at once"
            assert await service_answer(token_a) == 422

        # 3. key A removed: its tokens fail at the gateway at once and at the service after its key refresh
        retired = base.model_copy(update={"jwt_private_key": key_b})
        async with serve(create_app(retired), port) as url, httpx.AsyncClient(base_url=url) as gw:
            assert (await gw.get(f"{API}/me", headers={"Authorization": f"Bearer {token_a}"})).status_code == 401
            assert (await gw.get(f"{API}/me", headers={"Authorization": f"Bearer {token_b}"})).status_code == 200
            await _eventually(lambda: _is(service_answer(token_a), 401), 10)
            assert await service_answer(token_b) == 422

            # 4. revocation: disabling the account is refused by the gateway at once, by the service within a poll
            office_b = issue_token(
                None, Principal(username="admin", role=Role.OFFICE), timedelta(minutes=5), signer_for(key_b)
            )
            disabled = await gw.post(f"{API}/users/{username}/disable", headers={"Authorization": f"Bearer {office_b}"})
            assert disabled.status_code == 200
            assert (await gw.get(f"{API}/me", headers={"Authorization": f"Bearer {token_b}"})).status_code == 401
            took = await _eventually(lambda: _is(service_answer(token_b), 401), 5)
            revoked = (await gw.get("/.well-known/revocations.json")).json()["revoked"]
            assert revoked and username not in str(revoked), "the list holds opaque ids, never usernames"
            print(f"\n[revocation] the markets service refused the disabled account's token after {took:.1f} s")


async def _is(answer: Awaitable[int], expected: int) -> bool:
    return await answer == expected
