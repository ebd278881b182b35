"""The events the service publishes carry exactly the fields docs/events.md lists for them."""

from __future__ import annotations

import re
from pathlib import Path

from markets.main import PUBLISHED
from markets.settings import TOPIC

CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "events.md"
ROW = re.compile(r"^\| (?P<topic>[\w.]+) \| `(?P<type>[\w.]+)` \| (?P<subject>[^|]+) \| `?(?P<data>[^`|]+)`? \|$")


def top_level_fields(data: str) -> set[str]:
    """``a, b{x,y}, c[{p, q}]`` → ``{a, b, c}``."""
    depth, names, current = 0, set(), ""
    for char in data + ",":
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        elif char == "," and depth == 0:
            names.add(current.strip())
            current = ""
        elif depth == 0:
            current += char
    return names


def catalogue() -> dict[str, set[str]]:
    rows = (ROW.match(line.strip()) for line in CATALOGUE.read_text().splitlines())
    documented = {m["type"]: m["data"] for m in rows if m and m["topic"] == TOPIC}
    for name, data in documented.items():
        if data == "same as registered":
            documented[name] = documented["markets.market.registered.v1"]
    return {name: top_level_fields(data) for name, data in documented.items()}


def test_every_published_event_matches_the_catalogue() -> None:
    documented = catalogue()
    assert set(documented) == {model.event_type for model in PUBLISHED}
    for model in PUBLISHED:
        fields = set(model.model_json_schema(by_alias=True, mode="serialization")["properties"])
        assert fields == documented[model.event_type], model.event_type
