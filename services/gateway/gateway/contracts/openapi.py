"""The merged OpenAPI document of the whole public API.

Each service's ``/openapi.json`` is fetched through the proxy (see :mod:`.documents`), its paths
are prefixed with ``/api/v1``, its component schemas renamed ``<service>_<Name>`` (so two
services' ``Market`` or ``HTTPValidationError`` cannot collide) and its operation ids prefixed
likewise. The gateway's own public routes are added as they are, with its machine-readable
documents (``/asyncapi.json``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from gateway.access import WRITE_METHODS, AccessPolicy, Need
from gateway.contracts.documents import MergedDocument, Spec, rename_refs
from gateway.proxy import Proxy

API_PREFIX = "/api/v1"
SCHEMA_REF = "#/components/schemas/"
SERVICE_OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics"})
# the gateway's own routes outside /api/v1 that the public document describes
DOCUMENTS = frozenset({"/asyncapi.json"})
BEARER = "bearer"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "oauth2",
        "description": "Log in with the OAuth2 password flow; send the token as `Authorization: Bearer <token>`.",
        "flows": {"password": {"tokenUrl": f"{API_PREFIX}/auth/token", "scopes": {}}},
    }
}

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA = "Problem"
PROBLEM = {
    "title": "Problem",
    "description": "RFC 9457 problem details; 422 adds `errors`, each naming a field.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
# what any operation may answer, whatever it does: an ambiguous path, a bad token, an unknown
# resource, a body too large, invalid input, a rate limit, a service or database down
COMMON_PROBLEMS = {
    "400": "Ambiguous path (dot segments, encoded separators) or malformed request",
    "401": "Missing, expired or invalid bearer token",
    "404": "No such resource",
    "413": "Request body too large",
    "422": "Invalid input; `errors` names each field",
    "429": "Too many requests; see Retry-After",
    "503": "A service or the database is unavailable; see Retry-After",
}


def namespaced(service: str, spec: Spec) -> Spec:
    """A service's public paths under ``/api/v1`` with its schemas and operation ids namespaced."""

    def rename(name: str) -> str:
        return f"{service}_{name}"

    schemas = spec.get("components", {}).get("schemas", {})
    paths: dict[str, Any] = {}
    for path, item in spec.get("paths", {}).items():
        if path in SERVICE_OPERATIONS:
            continue
        item = rename_refs(copy.deepcopy(item), rename)
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                operation["operationId"] = rename(operation["operationId"])
            if isinstance(operation, dict) and not operation.get("tags"):
                operation["tags"] = [service]
        paths[API_PREFIX + path] = item
    return {
        "paths": paths,
        "schemas": {rename(name): rename_refs(schema, rename) for name, schema in schemas.items()},
    }


def annotate_access(spec: Spec, policy: AccessPolicy) -> None:
    """Mark each write operation with who may call it (``x-access``) and that it needs the token."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method.upper() not in WRITE_METHODS or not isinstance(operation, dict):
                continue
            found = policy.rule_for(method.upper(), path)
            need = found[0].need if found else Need.AUTHENTICATED
            operation["x-access"] = need.value
            if need is not Need.PUBLIC:
                operation.setdefault("security", [{BEARER: []}])


def declare_problems(spec: Spec) -> None:
    """Every error is answered as problem+json: say so for each operation, with the statuses any
    operation may answer besides its own (FastAPI documents 422 as plain JSON otherwise)."""
    spec["components"]["schemas"][PROBLEM_SCHEMA] = PROBLEM
    content = {PROBLEM_JSON: {"schema": {"$ref": SCHEMA_REF + PROBLEM_SCHEMA}}}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            responses = operation.setdefault("responses", {})
            needs_token = bool(operation.get("security"))
            for status, description in {
                **COMMON_PROBLEMS,
                **({"403": "Not allowed for this role or scope"} if needs_token else {}),
            }.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    response["content"] = content


def merge(own: Spec, services: dict[str, Spec], unavailable: list[str], policy: AccessPolicy) -> Spec:
    """The gateway's own document extended with every service's namespaced paths and schemas."""
    merged = copy.deepcopy(own)
    merged["paths"] = {
        p: item for p, item in merged.get("paths", {}).items() if p.startswith(API_PREFIX) or p in DOCUMENTS
    }
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for service in sorted(services):
        part = namespaced(service, services[service])
        merged["paths"].update(part["paths"])
        schemas.update(part["schemas"])
    merged["paths"] = dict(sorted(merged["paths"].items()))
    merged["components"]["securitySchemes"] = SECURITY_SCHEMES
    annotate_access(merged, policy)
    declare_problems(merged)
    merged["x-unavailable"] = sorted(unavailable)
    return merged


class MergedOpenAPI(MergedDocument):
    path = "/openapi.json"

    def __init__(self, proxy: Proxy, own: Callable[[], Spec], policy: AccessPolicy, refresh_s: float) -> None:
        super().__init__(proxy, refresh_s)
        self.own = own
        self.policy = policy

    def build(self, services: dict[str, Spec], unavailable: list[str]) -> Spec:
        return merge(self.own(), services, unavailable, self.policy)
