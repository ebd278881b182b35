"""The audit log's words: every office write the gateway relays to a service is said in words.

The log records a relayed write by its route (``POST /markets/{market_id}/calls``); the office's page
says it from its table of routes (``static/js/audit.js``, ``ROUTES``) and the texts ``audit_route.*``.
A write route added to the access rules without words would show as a bare "Modifica": this fails
first, as does a route in the table that the API no longer has, or a text one language lacks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import gateway
from gateway.access import WRITE_RULES
from gateway.paths import shape_of
from gateway.upstreams import owner_of

STATIC = Path(gateway.__file__).parent / "static"
API_PREFIX = "/api/v1"


def _table() -> dict[str, str]:
    script = (STATIC / "js" / "audit.js").read_text(encoding="utf-8")
    body = re.search(r"export const ROUTES = \{(.*?)\n\};", script, re.S)
    assert body, "audit.js declares its ROUTES table"
    return dict(re.findall(r"'((?:POST|PUT|PATCH|DELETE) /[^']*)': '([a-z_.]+)'", body.group(1)))


def _shape(route: str) -> str:
    method, path = route.split(" ", 1)
    return f"{method} {shape_of(path)}"


def _relayed() -> set[str]:
    """The write routes the gateway relays to a service (its own routes record their own actions)."""
    return {
        _shape(f"{r.method} {r.path[len(API_PREFIX) :]}")
        for r in WRITE_RULES
        if owner_of(r.path[len(API_PREFIX) :]) is not None
    }


def test_every_relayed_write_has_words_and_every_word_a_route() -> None:
    table = {_shape(route): key for route, key in _table().items()}
    relayed = _relayed()
    assert relayed, "the access rules list the services' write routes"
    assert not relayed - table.keys(), f"write routes the audit log cannot say: {sorted(relayed - table.keys())}"
    assert not table.keys() - relayed, f"routes in audit.js the API does not have: {sorted(table.keys() - relayed)}"


def test_each_route_and_subject_has_its_text_in_both_languages() -> None:
    table = _table()
    subjects = {name for route in table for name in re.findall(r"\{(\w+)\}", route)}
    wanted = {f"audit_route.{key}" for key in table.values()} | {f"audit_subject.{name}" for name in subjects}
    wanted |= {f"audit_route.other.{method}" for method in ("POST", "PUT", "PATCH", "DELETE")}
    for language in ("it", "en"):
        texts = json.loads((STATIC / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
        assert not wanted - texts.keys(), f"{language}.json lacks {sorted(wanted - texts.keys())}"
        subject_texts = [texts[k] for k in wanted if k.startswith("audit_subject.")]
        assert all("{name}" in text for text in subject_texts), "a subject names what it is about"
