"""The gateway's rules on their own: buckets, circuits, access, OpenAPI merging, the event ring."""

from __future__ import annotations

import logging

import pytest
import stamina
from gateway.access import AccessPolicy
from gateway.contracts.openapi import namespaced
from gateway.live.hub import EventHub
from gateway.overview import market_totals
from gateway.ratelimit import RateLimiter
from gateway.settings import GatewaySettings
from gateway.upstreams import CircuitBreaker, CircuitState, owner_of
from gateway.wiring import create_with_retries
from pydantic import ValidationError
from pymongo.errors import AutoReconnect

from shared.errors import Forbidden, NotFound, Unauthorized
from shared.identity import Principal, Role
from shared.tokens import generate_private_pem


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3, clock=clock, max_keys=2)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0, "each key has its own bucket"
    clock.now += 0.5
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    limiter.take("c")
    assert len(limiter._buckets) == 2, "memory stays bounded: the oldest keys are forgotten"


def test_circuit_opens_after_failures_and_probes_once_after_the_pause() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=2, open_s=5.0, clock=clock)
    breaker.failed()
    assert breaker.admit() is None
    breaker.failed()
    assert breaker.state is CircuitState.OPEN and breaker.admit() == pytest.approx(5.0)
    clock.now += 5.0
    assert breaker.admit() is None, "one probe goes through"
    assert breaker.admit() is not None, "and only one"
    breaker.failed()
    assert breaker.state is CircuitState.OPEN
    clock.now += 5.0
    assert breaker.admit() is None
    breaker.succeeded()
    assert breaker.state is CircuitState.CLOSED and breaker.admit() is None


def test_paths_belong_to_their_service() -> None:
    expected = {
        "/markets/wagner/stalls/3": "markets",
        "/calls/c1/award": "markets",
        "/applications": "markets",
        "/shops": "shops",
        "/services/nearest": "shops",
        "/districts.geojson": "districts",
        "/districts.csv": "districts",
        "/nils/12": "districts",
        "/marketsx": None,
        "/auth/token": None,
    }
    assert {path: owner_of(path) for path in expected} == expected


def test_access_policy_checks_role_and_scope_of_writes() -> None:
    policy = AccessPolicy()
    office = Principal(username="o", role=Role.OFFICE)
    wagner = Principal(username="w", role=Role.MARKET_OPERATOR, scope="wagner")
    kiosk = Principal(username="k", role=Role.SHOPKEEPER, scope="ed-1")
    status = "/api/v1/markets/wagner/stalls/12/status"
    policy.check("PUT", status, wagner)
    policy.check("PUT", status, office)
    policy.check("GET", "/api/v1/markets/wagner", None)
    policy.check("POST", "/api/v1/auth/token", None)
    policy.check("POST", "/api/v1/calls/c1/applications", Principal(username="t", role=Role.TRADER))
    policy.check("POST", "/api/v1/calls/c1/applications", office)
    policy.check("POST", "/api/v1/concessions/wagner-1a/renew", office)
    policy.check("DELETE", "/api/v1/shops/ed-1/services/s9", kiosk)
    refused = [
        ("PUT", "/api/v1/markets/lorenteggio/stalls/12/status", wagner, Forbidden),
        ("PUT", status, kiosk, Forbidden),
        ("PUT", status, None, Unauthorized),
        ("POST", "/api/v1/districts/rebuild", wagner, Forbidden),
        ("DELETE", "/api/v1/shops/ed-2/services/s9", kiosk, Forbidden),
        # applying to a call is for traders (and the office on their behalf)
        ("POST", "/api/v1/calls/c1/applications", kiosk, Forbidden),
        ("POST", "/api/v1/calls/c1/applications", wagner, Forbidden),
        ("POST", "/api/v1/calls/c1/applications", None, Unauthorized),
        ("POST", "/api/v1/concessions/wagner-1a/revoke", wagner, Forbidden),
        # a write no rule covers is not part of the API, whoever sends it
        ("POST", "/api/v1/markets/wagner/unknown-write", None, NotFound),
        ("POST", "/api/v1/markets/wagner/unknown-write", office, NotFound),
    ]
    for method, path, who, error in refused:
        with pytest.raises(error):
            policy.check(method, path, who)
    found = policy.rule_for("POST", "/api/v1/districts/rebuild")
    assert found and found[0].need == "office", "a literal segment wins over a parameter"


def test_openapi_schemas_are_namespaced_and_references_follow() -> None:
    spec = {
        "paths": {
            "/healthz": {"get": {}},
            "/markets/{id}": {
                "get": {
                    "operationId": "get_market",
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Market"}}}}
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Market": {"properties": {"stalls": {"items": {"$ref": "#/components/schemas/Stall"}}}},
                "Stall": {"type": "object"},
            }
        },
    }
    part = namespaced("markets", spec)
    assert list(part["paths"]) == ["/api/v1/markets/{id}"]
    operation = part["paths"]["/api/v1/markets/{id}"]["get"]
    assert operation["operationId"] == "markets_get_market" and operation["tags"] == ["markets"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/markets_Market"
    assert (
        part["schemas"]["markets_Market"]["properties"]["stalls"]["items"]["$ref"]
        == "#/components/schemas/markets_Stall"
    )
    assert spec["components"]["schemas"]["Market"]["properties"]["stalls"]["items"]["$ref"].endswith("/Stall")


def test_event_ring_resumes_after_the_last_seen_id_and_drops_a_full_client() -> None:
    dropped: list[int] = []
    hub = EventHub(ring_size=3, queue_size=2, max_clients=5, on_drop=lambda: dropped.append(1), first_seq=10)
    for i in range(4):
        hub.publish("t.v1", {"n": i})
    assert [m.seq for m in hub.since("11")] == [12, 13]
    assert [m.seq for m in hub.since("5")] == [11, 12, 13], "too old: everything the ring still holds"
    assert hub.since("99") == [] and hub.since(None) == []
    assert [m.seq for m in hub.since("junk")] == [11, 12, 13]
    slow, fast = hub.subscribe(None), hub.subscribe("12")
    assert [m.seq for m in fast.replay] == [13]
    hub.publish("t.v1", {"n": 4})
    hub.publish("t.v1", {"n": 5})
    fast._queue.get_nowait()
    hub.publish("t.v1", {"n": 6})
    assert slow.dropped and not fast.dropped and hub.clients == 1 and dropped == [1]
    message = hub.publish("bad\ntype", {"text": "line one\nline two"})
    encoded = message.encode().decode()
    assert encoded.count("\n") == 4 and encoded.endswith("\n\n"), "nothing can break the SSE framing"


def test_market_totals_add_up_the_occupancy_of_each_market() -> None:
    items = [
        {"id": "a", "occupancy": {"stalls_total": 10, "by_status": {"open": 4, "vacant": 2}, "open_now": 4}},
        {"id": "b", "occupancy": {"stalls_total": 6, "by_status": {"open": 1, "vacant": 6}}},
        {"id": "c"},
    ]
    totals = market_totals(items)
    assert (totals["count"], totals["stalls_total"], totals["stalls_open"], totals["stalls_vacant"]) == (3, 16, 5, 8)
    assert totals["occupancy_rate"] == 0.5
    assert market_totals([])["occupancy_rate"] is None


def test_settings_refuse_the_default_secret_in_prod_and_read_lists_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY"):
        GatewaySettings(profile="prod")
    with pytest.raises(ValidationError, match="PEM"):
        GatewaySettings(profile="prod", jwt_private_key="s" * 40)
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PROFILE", "prod")
    monkeypatch.setenv("JWT_PRIVATE_KEY", generate_private_pem())
    settings = GatewaySettings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.port == 8000 and settings.service_name == "gateway"
    monkeypatch.delenv("CORS_ORIGINS")
    assert GatewaySettings().cors_origins == [], "no cross-origin access unless configured"


class FlakyCreate:
    """Fails with a database error the first ``failures`` times it is called."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise AutoReconnect("database not reachable yet")


async def test_first_accounts_are_created_once_the_database_answers(caplog: pytest.LogCaptureFixture) -> None:
    create = FlakyCreate(failures=2)
    with caplog.at_level(logging.WARNING):
        await create_with_retries("bootstrap office account", create)
    assert create.calls == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "retry"]
    assert len(retries) == 2, retries
    assert all(m.startswith("bootstrap office account failed (AutoReconnect") for m in retries), retries
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_first_accounts_give_up_with_an_error_instead_of_blocking_the_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    create = FlakyCreate(failures=1000)
    # no waits in test mode; the attempts stay those the gateway asks for (cap), at most 1000
    with stamina.set_testing(True, attempts=1000, cap=True), caplog.at_level(logging.ERROR):
        await create_with_retries("local demo accounts", create)
    assert create.calls == 10
    assert [r.getMessage() for r in caplog.records] == ["the local demo accounts could not be created (AutoReconnect)"]
