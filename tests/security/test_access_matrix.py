"""Every write route of the public API, for every role and scope, through the gateway and to the service.

The routes come from the merged OpenAPI the gateway serves; who may call each one comes from the
gateway's rule table (``gateway.access.WRITE_RULES``). A write route without a rule fails here, and
so does a service that lets through a caller the table refuses (or refuses one it lets through):
each service is also called directly, as a request that bypassed the gateway would reach it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from gateway.access import WRITE_METHODS, AccessPolicy, Need, WriteRule
from gateway.paths import shape_of
from gateway.upstreams import owner_of

from devkit.testing import Platform, unique
from shared.identity import Role

from .conftest import OFFICE_PASSWORD, World, merged_openapi, square

pytestmark = pytest.mark.integration

API = "/api/v1"
Body = Callable[[World], dict[str, Any] | None]


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    scope: Callable[[World], str | None] = lambda world: None

    def headers(self, world: World) -> dict[str, str]:
        return world.bearer(self.role, self.scope(world)) if self.role else {}


CALLERS = (
    Caller("anonymous", None),
    Caller("office", Role.OFFICE),
    Caller("operator of the market", Role.MARKET_OPERATOR, lambda w: w.market),
    Caller("operator of another market", Role.MARKET_OPERATOR, lambda w: "mercato-altrove"),
    Caller("shopkeeper of the shop", Role.SHOPKEEPER, lambda w: w.shop),
    Caller("shopkeeper of another shop", Role.SHOPKEEPER, lambda w: "bottega-altrove"),
)


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=20)).isoformat()


LOCATION = {"lon": 9.2, "lat": 45.47}
# a valid body for each write route, so that a refusal can only come from who is calling
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/users"): lambda w: {
        "username": unique("utente"),
        "password": "long-enough-secret",
        "role": "market_operator",
        "scope": w.market,
    },
    # account routes act on an account that does not exist (404 once the caller is let through)
    ("PATCH", "/users/{}"): lambda w: {"role": "trader"},
    ("PUT", "/me/password"): lambda w: {"current_password": "not-this-one", "new_password": "a-long-new-passphrase"},
    ("POST", "/auth/activate"): lambda w: {"token": "no-such-one-time-token", "password": "a-long-new-passphrase"},
    ("POST", "/markets"): lambda w: {
        "id": unique("mercato"),
        "name": "Mercato",
        "address": "Via Uno 1",
        "municipio": 3,
        "location": LOCATION,
    },
    ("PATCH", "/markets/{}"): lambda w: {"notes": "aggiornato"},
    ("POST", "/markets/{}/stalls"): lambda w: {"number": unique("b")[-8:], "area_m2": 9.5, "category": "craft"},
    ("PUT", "/markets/{}/stalls/{}/status"): lambda w: {"status": "open", "note": "apertura"},
    ("POST", "/markets/{}/stalls/{}/assignment"): lambda w: {
        "holder": "Banco",
        "category": "food",
        "start": "2026-01-01",
        "end": "2031-01-01",
    },
    ("DELETE", "/markets/{}/stalls/{}/assignment"): lambda w: None,
    ("POST", "/markets/{}/calls"): lambda w: {
        "title": "Bando",
        "stalls": ["2"],
        "criteria": [{"name": "offer", "weight": 1}],
        "deadline": _future(),
    },
    ("POST", "/calls/{}/applications"): lambda w: {"holder": "Ditta", "category": "food", "scores": {"offer": 10}},
    ("POST", "/calls/{}/award"): lambda w: None,
    ("POST", "/shops"): lambda w: {"id": unique("negozio"), "kind": "shop", "name": "Negozio", "location": LOCATION},
    ("PUT", "/shops/{}"): lambda w: {"kind": "kiosk", "name": "Edicola Sicura", "location": LOCATION},
    ("PATCH", "/shops/{}"): lambda w: {"trade": "giornali"},
    ("PUT", "/shops/{}/status"): lambda w: {"status": "active"},
    ("POST", "/shops/{}/recognition"): lambda w: {"founding_year": 1950, "trade": "giornali", "continuity": "sempre"},
    ("POST", "/shops/{}/recognition/decision"): lambda w: {"decision": "reject", "reason": "documenti mancanti"},
    ("POST", "/shops/{}/services"): lambda w: {
        "service": "biglietti_trasporto",
        "hours": [{"day": 1, "opens": "09:00", "closes": "13:00"}],
    },
    ("DELETE", "/shops/{}/services/{}"): lambda w: None,
    ("POST", "/districts"): lambda w: {"code": unique("d"), "name": "Distretto", "perimeter": square(9.3, 45.5)},
    ("PUT", "/districts/{}"): lambda w: {"name": "Distretto", "perimeter": square(9.2, 45.47)},
    ("PUT", "/districts/{}/thresholds"): lambda w: {"occupancy_below": 0.5, "occupancy_recovered_at": 0.55},
    ("POST", "/districts/rebuild"): lambda w: None,
    ("POST", "/nils"): lambda w: {"id": 901, "name": "Prova", "population": 10, "perimeter": square(9.3, 45.5)},
}


def _parameters(world: World) -> dict[str, str]:
    return {
        "market_id": world.market,
        "number": "1",
        "call_id": world.call,
        "shop_id": world.shop,
        "service_id": world.offer,
        "code": world.district,
        "username": "matrix-nobody",
    }


def _allowed(rule: WriteRule, caller: Caller, path_values: dict[str, str], world: World) -> bool:
    if rule.need is Need.PUBLIC:
        return True
    if caller.role is None:
        return False
    if rule.need is Need.AUTHENTICATED or caller.role is Role.OFFICE:
        return True
    if rule.need is Need.OFFICE:
        return False
    assert rule.scope_param is not None
    wanted = Role.MARKET_OPERATOR if rule.need is Need.MARKET else Role.SHOPKEEPER
    return caller.role is wanted and caller.scope(world) == path_values[rule.scope_param]


def _write_routes(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method.upper() in WRITE_METHODS
    )


def _concrete(template: str, values: dict[str, str]) -> tuple[str, dict[str, str]]:
    used = {}
    parts = []
    for segment in template.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            assert name in values, f"no test value for the path parameter {name!r} of {template}"
            used[name] = values[name]
            parts.append(values[name])
        else:
            parts.append(segment)
    return "/".join(parts), used


async def _send(
    client: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> httpx.Response:
    if url.endswith("/auth/token"):
        return await client.post(url, data={"username": "office", "password": OFFICE_PASSWORD}, headers=headers)
    if url.endswith("/auth/refresh"):
        login = await client.post(
            url[: -len("refresh")] + "token", data={"username": "office", "password": OFFICE_PASSWORD}
        )
        return await client.post(url, json={"refresh_token": login.json()["refresh_token"]}, headers=headers)
    return await client.request(method, url, json=body, headers=headers)


async def test_every_write_route_refuses_exactly_the_callers_its_rule_refuses(
    platform: Platform, gateway: httpx.AsyncClient, world: World
) -> None:
    spec = await merged_openapi(gateway)
    policy = AccessPolicy()
    routes = _write_routes(spec)
    unruled = [f"{m} {p}" for m, p in routes if policy.rule_for(m, shape_of(p).replace("{}", "x")) is None]
    assert not unruled, f"write routes without a rule in gateway.access.WRITE_RULES: {unruled}"
    ruled = {(r.method, shape_of(r.path)) for r in policy.rules}
    assert ruled <= {(m, shape_of(p)) for m, p in routes}, "rules for routes the API does not have"

    outcomes: Counter[str] = Counter()
    failures = []
    for method, template in routes:
        path, used = _concrete(template, _parameters(world))
        found = policy.rule_for(method, path)
        assert found is not None
        rule = found[0]
        service_path = path[len(API) :]
        body_of = BODIES.get((method, shape_of(template)[len(API) :]))
        targets = [("gateway", platform.gateway + path)]
        owner = owner_of(service_path)
        if owner:
            targets.append((owner, platform.url(owner) + service_path))
        for caller in CALLERS:
            allowed = _allowed(rule, caller, used, world)
            expected = "allowed" if allowed else ("401" if caller.role is None else "403")
            for where, url in targets:
                body = body_of(world) if body_of else {}
                answer = await _send(gateway, method, url, body, caller.headers(world))
                status = answer.status_code
                if allowed:
                    ok = status < 500 and status not in (401, 403)
                    # with no known valid body a service may refuse the input before it looks at the caller
                elif body_of is None and where != "gateway":
                    ok = status in (int(expected), 422)
                else:
                    ok = status == int(expected)
                outcomes[f"{expected}:{status}" if allowed else expected] += 1
                if not ok or (status >= 400 and "problem+json" not in answer.headers.get("content-type", "")):
                    failures.append(f"{method} {template} as {caller.name} via {where}: {status}, expected {expected}")
    assert not failures, "\n".join(failures)
    print(
        f"\n[access matrix] write routes {len(routes)}, callers {len(CALLERS)}, requests {sum(outcomes.values())}, "
        f"expected and answered {dict(sorted(outcomes.items()))}"
    )
