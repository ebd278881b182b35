"""Property-based fuzzing of every operation of the public API, as the gateway documents it.

Schemathesis turns the merged OpenAPI into valid and invalid requests (wrong types, missing and extra
fields, odd strings, numbers out of range, bodies that are not JSON); each goes to the running
platform with the commerce office's token, so writes get past the door and into validation. No
answer may be a 5xx, every error must be ``application/problem+json``, and every answer is checked
by schemathesis's own checks (the in-process ``--checks all``): its status, content type, headers
and body must be what the operation declares, invalid data must be refused, valid data accepted,
a secured operation must refuse a request without the token. Generation is derandomised, so a run
is reproducible: ``EXAMPLES_PER_MODE`` valid and as many invalid requests per operation.

Two checks are left out, for a documented choice: ``unsupported_method`` and
``allow_header_conformance`` expect 405 with ``Allow`` for a method a path does not have, while the
gateway answers 404 to any write no rule covers (docs/gateway.md) and never relays it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup

from devkit.testing import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

EXAMPLES_PER_MODE = 15  # valid, and as many invalid: 30 per operation
LEFT_OUT_CHECKS = {"unsupported_method", "allow_header_conformance"}
# valid data may still name a market, call or shop that does not exist (404), break a business
# rule the schema cannot express (409, 412), or a cross-field rule such as a future deadline or a
# polygon that closes (422); the problem document then says which field
# invalid data is refused with a 4xx, which may also be 413 for a body over the size limit (the
# limit is checked before the body is read, so a huge invalid body is refused for its size)
POSITIVE = ["2xx", "401", "403", "404", "409", "412", "422"]
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": POSITIVE},
            "negative_data_rejection": {"expected-statuses": REFUSALS},
        },
        # a well-formed one-time token that was never issued is a bad request (400), as a used or expired one
        "operations": [
            {
                "include-path": "/api/v1/auth/activate",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "422"]}},
            },
            # a document is a PDF, JPEG or PNG by its content, which no schema says: other bytes are 415
            # (the filters of one entry add up, so the path alone: its list answers none of these two)
            {
                "include-path": "/api/v1/shops/{shop_id}/documents",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE, "413", "415"]}},
            },
        ],
    }
)
# the routes that read their caller from the body (a password, a refresh or activation token) and
# answer 401 to a wrong one whatever bearer token comes along; any other 401 means the office's token
# was refused, and the requests behind it tested nothing but the door
BODY_AUTH = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/activate"),
    ("PUT", "/api/v1/me/password"),
}
# logout revokes the bearer token it comes with: it gets a token of its own
REVOKES_ITS_TOKEN = ("POST", "/api/v1/auth/logout")
# the live stream never ends by design; a rebuild replays every topic (the access matrix calls it)
LEFT_OUT = {("GET", "/api/v1/stream"), ("POST", "/api/v1/districts/rebuild")}
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def _fault(status: int, content_type: str, text: str, path: str) -> str | None:
    if status >= 500:
        return f"server error {status}: {text[:200]}"
    if status < 400:
        return None
    if not content_type.startswith("application/problem+json"):
        return f"error {status} as {content_type or 'no content type'}: {text[:120]}"
    try:
        body = json.loads(text)
    except ValueError:
        return f"error {status} with a body that is not JSON: {text[:120]}"
    missing = PROBLEM_FIELDS - set(body)
    if missing:
        return f"error {status} without {sorted(missing)}"
    instance = body.get("instance")
    if instance is not None and unquote(instance) != unquote(path):
        return f"error {status} names {instance!r} as its instance, not the path asked for"
    return None


load_all_checks()
CHECKS_ALL = [check for check in CHECKS.get_all() if check.__name__ not in LEFT_OUT_CHECKS]


def _services_missing(platform: Platform) -> bool:
    spec = httpx.get(f"{platform.gateway}/openapi.json", timeout=10).json()
    return bool(spec.get("x-unavailable"))


def _fuzz(
    operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]
) -> tuple[Counter[int], list[str]]:
    statuses: Counter[int] = Counter()
    faults: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=15)
        except Exception as exc:
            faults.append(f"{mode.value}: no answer ({type(exc).__name__}: {exc}) to {case.as_curl_command()}")
            return
        statuses[response.status_code] += 1
        content_type = (response.headers.get("content-type") or [""])[0]
        fault = _fault(response.status_code, content_type, response.text, urlsplit(response.request.url).path)
        if fault:
            faults.append(f"{mode.value}: {fault} for {case.as_curl_command()[:600]}")
        try:
            case.validate_response(
                response,
                checks=CHECKS_ALL,
                headers=headers,
                transport_kwargs={"base_url": base_url, "headers": headers},
            )
        except (Failure, FailureGroup) as exc:
            failures = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
            first = [
                f"{type(f).__name__}: {str(f).strip().splitlines()[0] if str(f).strip() else ''}" for f in failures
            ]
            faults.append(
                f"{mode.value}: {response.status_code} {' | '.join(first[:6])[:500]} for {case.as_curl_command()[:400]}"
            )

    try:
        send()
    except Unsatisfiable:
        pass  # nothing in the operation can be made invalid (no parameters, no body)
    return statuses, faults


def test_no_request_makes_the_api_fail_or_answer_without_a_problem_document(
    platform: Platform, office: dict[str, str], departing: dict[str, str]
) -> None:
    deadline = time.monotonic() + 60
    while _services_missing(platform) and time.monotonic() < deadline:
        time.sleep(0.5)
    schema = schemathesis.openapi.from_url(f"{platform.gateway}/openapi.json", config=CONFIG)
    started = time.monotonic()
    statuses: Counter[int] = Counter()
    faults: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in LEFT_OUT:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            key = (operation.method.upper(), operation.path)
            seen, found = _fuzz(operation, mode, platform.gateway, departing if key == REVOKES_ITS_TOKEN else office)
            statuses.update(seen)
            faults += [f"{operation.method.upper()} {operation.path} {f}" for f in found]
            if seen[401] and key not in BODY_AUTH:
                faults.append(
                    f"{operation.method.upper()} {operation.path} {mode.value}: the office's token refused {seen[401]} times"
                )
    assert operations >= 40, f"only {operations} operations in the merged OpenAPI"
    assert not faults, f"{len(faults)} faults:\n" + "\n".join(faults[:60])
    print(
        f"\n[fuzz] operations {operations}, requests {sum(statuses.values())} "
        f"(up to {EXAMPLES_PER_MODE} valid and {EXAMPLES_PER_MODE} invalid per operation), "
        f"checks {sorted(c.__name__ for c in CHECKS_ALL)}, answers {dict(sorted(statuses.items()))}, "
        f"faults 0, {time.monotonic() - started:.0f} s"
    )
