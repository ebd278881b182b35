"""The event contract: what the producers really publish is understood, and what is published matches docs/events.md."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

from districts.alerts.events import AlertRaised, AlertResolved
from districts.projection.changes import changes_of
from districts.projection.events import CONSUMED, KpisUpdated, SpuntaAssigned, SpuntaStall

from devkit.catalogue import CATALOGUE, catalogue

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def test_published_payloads_are_the_catalogue_ones() -> None:
    table = catalogue()
    for model in (KpisUpdated, AlertRaised, AlertResolved):
        assert set(model.model_fields) == table[model.event_type], model.event_type


def test_consumed_payloads_read_only_catalogue_fields() -> None:
    table = catalogue()
    additions = {"id_nil"}  # announced by the shops service as an addition to shops.shop.*.v1
    for event_type, model in CONSUMED.items():
        read = {info.alias or name for name, info in model.model_fields.items()}
        assert read - table[event_type] <= additions, (event_type, read - table[event_type])


def test_the_spunta_is_followed_with_the_catalogue_fields() -> None:
    assert CONSUMED["markets.spunta.assigned.v1"] is SpuntaAssigned
    read = {info.alias or name for name, info in SpuntaAssigned.model_fields.items()}
    assert read == {"market_id", "date", "assignments"}
    row = next(line for line in CATALOGUE.read_text().splitlines() if "`markets.spunta.assigned.v1`" in line)
    assert "assignments[{trader, stall}]" in row and set(SpuntaStall.model_fields) == {"stall"}


def test_what_the_producers_publish_is_understood() -> None:
    # the producers' own event models (installed in the same environment): a move or rename fails here
    markets = importlib.import_module("markets.stalls.events")
    shops = importlib.import_module("shops.register.events")
    offers = importlib.import_module("shops.offers.events")
    spunta = importlib.import_module("markets.spunta.events")
    published: list[Any] = [
        markets.MarketRegistered.model_validate(
            {"market_id": "wagner", "name": "Wagner", "address": "Piazza Wagner", "municipio": 7, "nil": "PAGANO",
             "location": {"lon": 9.158, "lat": 45.468}, "active": True, "version": 1}
        ),
        markets.StallStatusChanged.model_validate(
            {"market_id": "wagner", "number": "12", "from": "open", "to": "vacant", "note": "", "actor": "op",
             "version": 4, "at": NOW}
        ),
        shops.ShopRegistered.model_validate(
            {"shop_id": "bs-1", "kind": "historic", "name": "A", "trade": "t", "address": "Via", "cap": "20121",
             "municipio": 1, "nil": "BRERA", "id_nil": 2, "location": {"lon": 9.18, "lat": 45.47},
             "year_founded": 1920, "category": "food", "status": "active", "status_changed_at": None, "version": 3}
        ),
        shops.ShopStatusChanged.model_validate(
            {"shop_id": "bs-1", "kind": "historic", "from": "active", "to": "closed", "at": NOW, "actor": "o",
             "version": 4}
        ),
        offers.OfferRegistered.model_validate(
            {"shop_id": "ed-1", "service_id": "o1", "service": "ritiro_pacchi",
             "hours": [{"day": 5, "opens": "08:00", "closes": "20:00"}], "weekly_minutes": 720,
             "evening_minutes": 60, "weekend_minutes": 720, "actor": "k", "at": NOW}
        ),
        spunta.SpuntaAssigned.model_validate(
            {"market_id": "wagner", "date": "2026-05-04", "assignments": [{"trader": "t1", "stall": "7"}],
             "unassigned": ["t2"], "offered": ["7"], "actor": "op", "at": NOW}
        ),
    ]  # fmt: skip
    changes = [change for payload in published for change in changes_of(payload.to_event())]
    by_id = {c.entity_id: c for c in changes}
    assert by_id["market:wagner"].values["location"] == [9.158, 45.468]
    assert by_id["stall:wagner/12"].values["status"] == "vacant" and by_id["stall:wagner/12"].version == 4
    assert by_id["shop:bs-1"].movement is not None and by_id["shop:bs-1"].movement.to == "closed"
    assert by_id["service:o1"].values["weekend_minutes"] == 720
    assert by_id["stall:wagner/7"].values == {"spunta_day": "2026-05-04"}
    registered = changes_of(published[2].to_event())[0]
    assert registered.values["nil_hint"] == 2 and registered.values["kind"] == "historic"


def test_a_concession_that_ends_frees_its_stall_and_a_transfer_changes_its_holder() -> None:
    # the producer's own models: a revoked or expired concession is a stall becoming free
    concessions = importlib.import_module("markets.concessions.events")
    common = {"market_id": "wagner", "number": "12", "concession_id": "wagner-1", "start": "2026-01-01",
              "end": "2027-03-31", "actor": "system", "at": NOW}  # fmt: skip
    held = {**common, "holder": "Banco Nuovo", "trader": "bruno", "state": "active", "status": "open"}
    ended = {**common, "holder": "Banco", "trader": "anna", "status": "vacant"}
    transferred = concessions.ConcessionTransferred.model_validate(
        {**held, "version": 5, "previous_holder": "Banco", "previous_trader": "anna"}
    )
    (moved,) = changes_of(transferred.to_event())
    assert (moved.version, moved.values) == (5, {"market_id": "wagner", "status": "open", "holder": "Banco Nuovo"})
    for model, state in ((concessions.ConcessionExpired, "expired"), (concessions.ConcessionRevoked, "revoked")):
        extra = {"reason": "canoni non pagati"} if state == "revoked" else {}
        payload = model.model_validate({**ended, "state": state, "version": 6, **extra})
        (freed,) = changes_of(payload.to_event())
        assert freed.entity_id == "stall:wagner/12" and freed.version == 6, model.event_type
        assert freed.values == {"market_id": "wagner", "status": "vacant", "holder": None}, model.event_type
