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
