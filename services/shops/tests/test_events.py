"""The published payloads match the event catalogue in docs/events.md."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from shops.offers import events as offers_events
from shops.register import events as register_events
from shops.register.events import ShopEvent, ShopKind, ShopStatus, ShopStatusChanged

CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "events.md"
PUBLISHED = (*register_events.PUBLISHED, *offers_events.PUBLISHED)
ADDITIONS = {"shops.shop.registered.v1": {"id_nil"}, "shops.shop.updated.v1": {"id_nil"}}


def catalogue_fields() -> dict[str, set[str]]:
    """``type`` → top-level data field names, from the catalogue's table rows for shops.events."""
    found: dict[str, set[str]] = {}
    for line in CATALOGUE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] != "shops.events":
            continue
        event_type, data = cells[1].strip("`"), cells[3].strip("`")
        if data == "same as registered":
            found[event_type] = found["shops.shop.registered.v1"]
            continue
        while re.search(r"[\[{][^\[\]{}]*[\]}]", data):
            data = re.sub(r"[\[{][^\[\]{}]*[\]}]", "", data)
        found[event_type] = {name.strip() for name in data.split(",")}
    return found


def serialised_fields(model: type[ShopEvent]) -> set[str]:
    return set(model.model_json_schema(mode="serialization")["properties"])


def test_every_published_type_carries_the_catalogue_fields() -> None:
    documented = catalogue_fields()
    assert {m.event_type for m in PUBLISHED} == set(documented)
    for model in PUBLISHED:
        expected = documented[model.event_type] | ADDITIONS.get(model.event_type, set())
        assert serialised_fields(model) == expected, model.event_type
        assert model.source == "/shops"


def test_status_change_is_keyed_by_shop_and_says_from_and_to() -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    event = ShopStatusChanged(
        shop_id="bs-12",
        kind=ShopKind.HISTORIC,
        from_=ShopStatus.ACTIVE,
        to=ShopStatus.CLOSED,
        at=at,
        actor="office",
        version=2,
    ).to_event()
    assert event.subject == "bs-12" and event.type == "shops.shop.status_changed.v1"
    assert event.data["from"] == "active" and event.data["to"] == "closed" and "from_" not in event.data
    assert ShopStatusChanged.model_validate(event.data).from_ is ShopStatus.ACTIVE
