"""Forged, unsigned, expired and foreign tokens are refused with 401, at the gateway and at each service."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest

from devkit.testing import Platform, unique
from shared.identity import Role
from shared.tokens import generate_private_pem, load_private_key

from .conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]


def _claims(world: World, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "mallory", "role": Role.OFFICE.value, "scope": None, "tv": "v1", "jti": "j1"}
    claims.update(iss=world.signer.issuer, aud=world.signer.audience, iat=now, nbf=now, exp=now + 300)
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


def _signed(world: World, algorithm: str = "EdDSA", key: Any = None, **changes: Any) -> str:
    """Claims signed with the platform's own key (or ``key``), under the platform's key id."""
    signing = key if key is not None else load_private_key(world.signing_key)
    return jwt.encode(_claims(world, **changes), signing, algorithm=algorithm, headers={"kid": world.signer.kid})


def _elevated(token: str) -> str:
    """An operator's genuine token with its role changed to the office, keeping the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(role=Role.OFFICE.value, scope=None)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _forgeries(world: World) -> dict[str, str]:
    operator = world.token(Role.MARKET_OPERATOR, world.market)
    return {
        "alg none": jwt.encode(_claims(world), key="", algorithm="none"),
        "alg none, upper case": _with_header(_signed(world), {"alg": "NONE", "typ": "JWT"}, drop_signature=True),
        "another key under the platform's key id": _signed(world, key=load_private_key(generate_private_pem())),
        "HS256 keyed with the public key": _signed(world, algorithm="HS256", key=world.signer.jwks()["keys"][0]["x"]),
        "HS256 with a guessed secret": _signed(world, algorithm="HS256", key="an-attacker-guessed-this-secret-of-40"),
        "role changed after signing": _elevated(operator),
        "signature removed": operator.rsplit(".", 1)[0] + ".",
        "expired": _signed(world, iat=int(time.time()) - 3600, nbf=int(time.time()) - 3600, exp=int(time.time()) - 60),
        "not yet valid": _signed(world, nbf=int(time.time()) + 600),
        "another issuer": _signed(world, iss="someone-else"),
        "another audience": _signed(world, aud="another-api"),
        "no token version": _signed(world, tv=...),
        "no expiry": _signed(world, exp=...),
        "no subject": _signed(world, sub=...),
        "unknown role": _signed(world, role="mayor"),
        "not a JWT": "not-a-token",
        "oversized": "a" * 20_000,
    }


def _with_header(token: str, header: dict[str, str], *, drop_signature: bool) -> str:
    _, payload, signature = token.split(".")
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{'' if drop_signature else signature}"


async def test_forged_and_stale_tokens_are_refused_everywhere(
    platform: Platform, gateway: httpx.AsyncClient, world: World
) -> None:
    market = unique("falso")
    body = {"id": market, "name": "Falso", "address": "Via Falsa 1", "municipio": 1, "location": {"lon": 9, "lat": 45}}
    targets = [
        ("POST", f"{platform.gateway}/api/v1/markets", body),
        ("GET", f"{platform.gateway}/api/v1/me", None),
        ("POST", f"{platform.url('markets')}/markets", body),
        ("PUT", f"{platform.url('shops')}/shops/{world.shop}/status", {"status": "closed"}),
        ("PUT", f"{platform.url('districts')}/districts/{world.district}/thresholds", {}),
    ]
    refused = 0
    failures = []
    for name, token in _forgeries(world).items():
        for method, url, payload in targets:
            answer = await gateway.request(method, url, json=payload, headers={"Authorization": f"Bearer {token}"})
            problem = answer.headers.get("content-type", "").startswith("application/problem+json")
            if answer.status_code != 401 or not problem:
                failures.append(f"{name}: {method} {url} answered {answer.status_code} {answer.text[:120]}")
            refused += 1
    assert not failures, "\n".join(failures)
    assert (await gateway.get(f"/api/v1/markets/{market}")).status_code == 404, "a forged token wrote a market"
    expired = await gateway.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {_forgeries(world)['expired']}", "Accept-Language": "en"}
    )
    assert "expired" in expired.json()["detail"]
    genuine = await gateway.get("/api/v1/me", headers=world.bearer(Role.SHOPKEEPER, world.shop))
    assert genuine.status_code == 200 and genuine.json()["role"] == "shopkeeper"
    print(
        f"\n[tokens] forgeries {len(_forgeries(world))}, targets {len(targets)}, refused with 401 {refused} of {refused}"
    )
