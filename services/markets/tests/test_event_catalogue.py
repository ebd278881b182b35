"""The events the service publishes carry exactly the fields docs/events.md lists for them."""

from __future__ import annotations

from markets.main import PUBLISHED
from markets.settings import TOPIC

from devkit.catalogue import catalogue


def test_every_published_event_matches_the_catalogue() -> None:
    documented = catalogue(TOPIC)
    assert set(documented) == {model.event_type for model in PUBLISHED}
    for model in PUBLISHED:
        fields = set(model.model_json_schema(by_alias=True, mode="serialization")["properties"])
        assert fields == documented[model.event_type], model.event_type
