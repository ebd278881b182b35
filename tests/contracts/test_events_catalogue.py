"""The human catalogue (docs/events.md) names exactly the event types the services declare."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import PUBLISHERS, served_document, service_app

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "events.md"
ROW = re.compile(r"^\|\s*([a-z.]+)\s*\|\s*`([a-z0-9_.]+)`\s*\|")


def catalogued() -> set[tuple[str, str]]:
    return {(m[1], m[2]) for line in CATALOGUE.read_text().splitlines() if (m := ROW.match(line))}


async def test_docs_events_md_lists_exactly_the_declared_event_types() -> None:
    declared: set[tuple[str, str]] = set()
    for service in PUBLISHERS:
        document = await served_document(service_app(service))
        for channel in document["channels"].values():
            declared |= {(channel["address"], event_type) for event_type in channel["messages"]}
        assert document["channels"], f"{service} declares no events"
    rows = catalogued()
    assert len(rows) >= 16, "the catalogue's table was not read"
    assert sorted(rows - declared) == [], "catalogued but not declared by any service"
    assert sorted(declared - rows) == [], "declared but missing from docs/events.md"
