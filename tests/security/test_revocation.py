"""A disabled account's token is refused by the gateway at once and by every service within 60 s.

The platform runs as real processes; each service polls the gateway's revocation list (every 2 s
here, ``REVOCATION_POLL_S``; at most 60 s by configuration) and is called directly, bypassing the
gateway, as an attacker inside the network would.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from devkit.testing import Platform, unique
from shared.identity import Role

from .conftest import World

pytestmark = pytest.mark.integration
API = "/api/v1"


async def test_a_disabled_accounts_token_fails_everywhere_within_a_minute(
    platform: Platform, gateway: httpx.AsyncClient, world: World
) -> None:
    office = world.bearer(Role.OFFICE)
    username, password = unique("revoked"), "revocation-passphrase-1"
    body = {"username": username, "password": password, "role": "commerce_office"}
    assert (await gateway.post(f"{API}/users", json=body, headers=office)).status_code == 201
    login = await gateway.post(f"{API}/auth/token", data={"username": username, "password": password})
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    probes = {
        # writes with an empty body: 422 while the token is accepted, 401 once it is refused
        "markets": ("POST", f"{platform.url('markets')}/markets", {}),
        "shops": ("POST", f"{platform.url('shops')}/shops", {}),
        "districts": ("POST", f"{platform.url('districts')}/districts", {}),
        "gateway": ("GET", f"{platform.gateway}{API}/me", None),
    }

    async def answer(name: str) -> int:
        method, url, payload = probes[name]
        return (await gateway.request(method, url, json=payload, headers=token)).status_code

    assert {name: await answer(name) for name in probes} == {
        "markets": 422,
        "shops": 422,
        "districts": 422,
        "gateway": 200,
    }
    assert (await gateway.post(f"{API}/users/{username}/disable", headers=office)).status_code == 200
    assert await answer("gateway") == 401, "the gateway refuses a revoked token at once"
    started, refused_after = time.monotonic(), {}
    while len(refused_after) < 3 and time.monotonic() - started < 60:
        for name in ("markets", "shops", "districts"):
            if name not in refused_after and await answer(name) == 401:
                refused_after[name] = round(time.monotonic() - started, 1)
        await asyncio.sleep(0.2)
    assert set(refused_after) == {"markets", "shops", "districts"}, refused_after
    print(f"\n[revocation] services refused the disabled account's token after (s): {refused_after}")
