"""Every write route of the public API has a rule in the gateway's table, and every rule a route.

The services' OpenAPI documents are built in-process from their apps (no network, no database),
merged as the gateway merges them, and compared with ``gateway.access.WRITE_RULES``.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from gateway.access import WRITE_METHODS, WRITE_RULES, AccessPolicy
from gateway.contracts.openapi import merge
from gateway.main import create_app
from gateway.paths import shape_of

SERVICES = ("markets", "shops", "districts")


def _service_specs() -> dict[str, dict[str, Any]]:
    specs = {}
    for name in SERVICES:
        try:
            module = importlib.import_module(f"{name}.main")
        except ImportError as exc:
            pytest.skip(f"the {name} service cannot be imported here: {exc}")
        specs[name] = module.create_app().openapi()
    return specs


def _write_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), shape_of(path))
        for path, item in spec["paths"].items()
        for method in item
        if method.upper() in WRITE_METHODS
    }


def test_every_write_route_has_a_rule_and_every_rule_a_route() -> None:
    policy = AccessPolicy()
    merged = merge(create_app().openapi(), _service_specs(), [], policy)
    routes = _write_operations(merged)
    unruled = sorted(f"{m} {p}" for m, p in routes if policy.rule_for(m, p.replace("{}", "x")) is None)
    assert not unruled, f"write routes without a rule in gateway.access.WRITE_RULES: {unruled}"
    rules = {(r.method, shape_of(r.path)) for r in WRITE_RULES}
    assert not sorted(rules - routes), f"rules for routes no service has: {sorted(rules - routes)}"
    for path, item in merged["paths"].items():
        for method, operation in item.items():
            if method.upper() in WRITE_METHODS:
                assert operation["x-access"], (method, path)


def test_every_action_reads_before_a_resource_of_its_own_service() -> None:
    """A POST that acts on a resource names one the merged API can GET, served by the same service,
    so the audit log's ``before`` is a real read; a creating POST names none."""
    from gateway.upstreams import owner_of

    merged = merge(create_app().openapi(), _service_specs(), [], AccessPolicy())
    readable = {shape_of(path) for path, item in merged["paths"].items() if "get" in item}
    actions = [rule for rule in WRITE_RULES if rule.acts_on is not None]
    assert {rule.path.rsplit("/", 1)[-1] for rule in actions} >= {"renew", "transfer", "revoke", "award", "acknowledge"}
    for rule in actions:
        assert rule.method == "POST" and rule.acts_on is not None
        assert shape_of(rule.acts_on) in readable, rule
        assert rule.path.startswith(rule.acts_on + "/"), rule
        assert owner_of(rule.acts_on[len("/api/v1") :]) == owner_of(rule.path[len("/api/v1") :]), rule
    creating = {r.path for r in WRITE_RULES if r.method == "POST" and r.acts_on is None}
    assert "/api/v1/interventions" in creating and "/api/v1/calls/{call_id}/evaluations" in creating


def test_the_resource_an_action_changes_is_its_path_filled_in() -> None:
    policy = AccessPolicy()
    assert policy.acted_on("POST", "/api/v1/concessions/c-7/renew") == "/api/v1/concessions/c-7"
    assert policy.acted_on("POST", "/api/v1/districts/brera/alerts/a-1/acknowledge") == (
        "/api/v1/districts/brera/alerts/a-1"
    )
    assert policy.acted_on("PUT", "/api/v1/districts/brera/thresholds") == "/api/v1/districts/brera/thresholds"
    assert policy.acted_on("DELETE", "/api/v1/shops/s/closures/c") == "/api/v1/shops/s/closures/c"
    assert policy.acted_on("POST", "/api/v1/interventions") is None
