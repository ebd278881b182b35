"""Projections are pure: any order, any number of deliveries, same entities and the same KPIs."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from districts.geography.domain import DistrictShape, Locator, NilShape, parse_perimeter
from districts.projection.changes import changes_of
from districts.projection.domain import (
    AreaContents,
    Entity,
    EntityType,
    Movement,
    group_by_area,
    measure,
    placement_of,
)

from shared.events import CloudEvent


def project(stream: list[CloudEvent]) -> dict[str, Entity]:
    entities: dict[str, Entity] = {}
    for event in stream:
        for change in changes_of(event):
            entity = entities.setdefault(change.entity_id, Entity(change.entity_id, change.type))
            entity.apply(change)
    return entities


def snapshot(entities: dict[str, Entity]) -> dict[str, Any]:
    return {k: (e.fields, e.versions, sorted(e.movements)) for k, e in entities.items()}


def history(events: Any) -> list[CloudEvent]:
    """One shop's life, a kiosk with services, a market and its stalls."""
    return [
        events.shop("s1", 1, "shop", "active", 9.19, 45.46, year_founded=1990),
        events.shop_status("s1", "shop", "active", "closed", 2),
        events.shop_status("s1", "shop", "closed", "active", 3),
        events.shop("s1", 4, "shop", "active", 9.20, 45.47, registered=False),
        CloudEvent(
            source="/shops",
            type="shops.historic.recognised.v1",
            subject="s1",
            data={"shop_id": "s1", "name": "S1", "year_founded": 1950, "version": 5},
        ),
        events.shop("k1", 1, "kiosk", "active", 9.19, 45.46, year_founded=None),
        events.service("k1", "a", "ritiro_pacchi"),
        events.service("k1", "b", "biglietti_trasporto"),
        events.service("k1", "b", "biglietti_trasporto", removed=True),
        events.service("k1", "a", "ritiro_pacchi", updated_to=2),
        events.service("k1", "b", "biglietti_trasporto", updated_to=2),
        events.market("m1", 1, 9.19, 45.46),
        events.stall("m1", 1, "open"),
        events.stall_status("m1", 1, "open", "closed", 2),
        events.stall_status("m1", 1, "closed", "vacant", 3),
        events.stall("m1", 2, "vacant"),
        events.stall_status("m1", 2, "vacant", "open", 2),
    ]


def project_in_any_order(stream: list[CloudEvent], seed: int, rounds: int, repeated: int) -> dict[str, Entity]:
    """The entities of ``stream``, checked to be the same when it is shuffled with some events twice."""
    expected = snapshot(project(stream))
    shuffler = random.Random(seed)
    for _ in range(rounds):
        delivered = stream + shuffler.sample(stream, k=repeated)
        shuffler.shuffle(delivered)
        assert snapshot(project(delivered)) == expected
    return project(stream)


def test_any_order_and_any_duplicates_give_the_same_entities(events: Any) -> None:
    final = project_in_any_order(history(events), seed=6, rounds=200, repeated=5)
    s1 = final["shop:s1"]
    assert s1.fields["kind"] == "historic" and s1.fields["status"] == "active"
    assert s1.location == (9.20, 45.47), "the location of the latest full state wins"
    assert sorted(m.to for m in s1.movements.values()) == ["active", "closed"]
    assert final["service:a"].active is True
    assert final["service:b"].active is False, "new hours arriving after a removal do not bring a service back"
    a = final["service:a"].fields
    assert (a["weekly_minutes"], a["evening_minutes"], a["weekend_minutes"]) == (1200, 0, 0), "the new hours count"
    assert final["stall:m1/1"].fields["status"] == "vacant" and final["stall:m1/2"].fields["status"] == "open"


def test_openings_count_new_businesses_not_imported_ones(events: Any) -> None:
    year = datetime.now(UTC).year
    imported = project([events.shop("old", 1, "historic", "active", 9.1, 45.4, year_founded=1900)])
    kiosk = project([events.shop("k", 1, "kiosk", "active", 9.1, 45.4, year_founded=None)])
    new = project([events.shop("new", 1, "shop", "active", 9.1, 45.4, year_founded=year)])
    updated = project([events.shop("u", 1, "shop", "active", 9.1, 45.4, year_founded=year, registered=False)])
    assert not imported["shop:old"].movements and not kiosk["shop:k"].movements
    assert not updated["shop:u"].movements
    assert [m.to for m in new["shop:new"].movements.values()] == ["active"]


def test_a_broken_payload_of_a_followed_type_is_refused(events: Any) -> None:
    broken = CloudEvent(source="/markets", type="markets.stall.created.v1", subject="m/1", data={"number": 1})
    with pytest.raises(ValueError, match="market_id"):
        changes_of(broken)
    assert changes_of(CloudEvent(source="/x", type="x.unknown.v1", subject="x", data={})) == []


def _shop(ref: str, kind: str, status: str, movements: tuple[Movement, ...] = ()) -> Entity:
    entity = Entity(f"shop:{ref}", EntityType.SHOP, {"kind": kind, "status": status}, districts=("d",))
    entity.movements = {m.key: m for m in movements}
    return entity


def test_kpis_of_an_area() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    recent, old = now - timedelta(days=3), now - timedelta(days=45)
    shops = [
        _shop("a", "historic", "active"),
        _shop("b", "historic", "closed", (Movement("v2", recent, "closed"),)),
        _shop("c", "kiosk", "active", (Movement("registered", recent, "active"),)),
        _shop("d", "shop", "closed", (Movement("v3", old, "closed"),)),
    ]
    market = Entity("market:m", EntityType.MARKET, {"active": True}, districts=("d",))
    closed_market = Entity("market:x", EntityType.MARKET, {"active": False}, districts=("d",))
    stalls = [
        Entity(f"stall:{m}/{n}", EntityType.STALL, {"market_id": m, "status": s})
        for m, n, s in (("m", 1, "open"), ("m", 2, "vacant"), ("m", 3, "maintenance"), ("x", 1, "open"))
    ]
    services = [
        Entity("service:1", EntityType.SERVICE, {"shop_id": "c", "service": "ritiro_pacchi", "removed": False}),
        Entity("service:2", EntityType.SERVICE, {"shop_id": "b", "service": "ritiro_pacchi", "removed": False}),
        Entity("service:3", EntityType.SERVICE, {"shop_id": "c", "service": "info_turistiche", "removed": True}),
    ]
    areas = group_by_area([*shops, market, closed_market], stalls, services, ["district:d"])
    kpis = measure(areas["district:d"], 1000, now).kpis
    assert (kpis.shops_active, kpis.historic_active, kpis.kiosks_active) == (2, 1, 1)
    assert (kpis.stalls_total, kpis.stalls_open, kpis.stalls_vacant, kpis.stall_occupancy) == (3, 1, 1, 0.6667)
    assert (kpis.openings_30d, kpis.closures_30d, kpis.historic_closures_30d) == (1, 1, 1)
    assert kpis.services_by_type == {"ritiro_pacchi": 1} and kpis.population == 1000
    empty = measure(AreaContents(), None, now).kpis
    assert empty.stall_occupancy is None and empty.shops_active == 0


def test_a_stall_keeps_the_latest_day_it_was_handed_out_whatever_the_order(events: Any) -> None:
    stream = [
        events.stall("m1", 1, "vacant"),
        events.spunta("m1", "2026-06-02", [1, 2]),
        events.spunta("m1", "2026-06-01", [1, 3]),
        events.stall_status("m1", 1, "vacant", "open", 2),
    ]
    final = project_in_any_order(stream, seed=15, rounds=100, repeated=2)
    stall = final["stall:m1/1"].fields
    assert (stall["market_id"], stall["status"], stall["spunta_day"]) == ("m1", "open", "2026-06-02")
    assert final["stall:m1/2"].fields == {"spunta_day": "2026-06-02"}
    assert final["stall:m1/3"].fields == {"spunta_day": "2026-06-01"}
    assert not final["stall:m1/2"].active, "a stall known only from a spunta is not counted until its market says so"


@pytest.mark.parametrize(
    "data",
    [
        {"market_id": "m1", "date": "2026-02-30", "assignments": []},
        {"market_id": "m1", "date": "tomorrow", "assignments": []},
        {"market_id": "m1", "date": "2026-06-02", "assignments": "1, 2"},
        {"market_id": "m1", "date": "2026-06-02", "assignments": [{"trader": "t"}]},
        {"date": "2026-06-02", "assignments": []},
    ],
)
def test_a_spunta_of_the_wrong_shape_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        changes_of(CloudEvent(source="/markets", type="markets.spunta.assigned.v1", subject="m1/x", data=data))


def test_stalls_handed_out_at_the_spunta_are_open_on_that_day_in_milan() -> None:
    market = Entity("market:m", EntityType.MARKET, {"active": True}, districts=("d",))
    stalls = [
        Entity(f"stall:m/{n}", EntityType.STALL, {"market_id": "m", "status": status, **spunta})
        for n, status, spunta in (
            (1, "open", {}),
            (2, "vacant", {"spunta_day": "2026-06-02"}),
            (3, "closed", {"spunta_day": "2026-06-02"}),  # its holder did not come
            (4, "vacant", {"spunta_day": "2026-06-01"}),
            (5, "maintenance", {"spunta_day": "2026-06-02"}),
            (6, "vacant", {}),
        )
    ]
    contents = group_by_area([market], stalls, [], ["district:d"])["district:d"]
    counted = ("stalls_total", "stalls_open", "stalls_vacant", "stall_occupancy")
    # 00:30 on 2 June in Milan: stalls 2 and 3 are open, stall 5 stays in maintenance
    past_midnight_in_milan = measure(contents, None, datetime(2026, 6, 1, 22, 30, tzinfo=UTC)).kpis
    assert tuple(getattr(past_midnight_in_milan, k) for k in counted) == (6, 3, 2, 0.6667)
    # 23:30 on 1 June in Milan: stall 4 (handed out on 1 June) is open, stalls 2 and 3 not yet
    before_midnight_in_milan = measure(contents, None, datetime(2026, 6, 1, 21, 30, tzinfo=UTC)).kpis
    assert tuple(getattr(before_midnight_in_milan, k) for k in counted) == (6, 2, 2, 0.6667)
    next_day = measure(contents, None, datetime(2026, 6, 3, 8, 0, tzinfo=UTC)).kpis
    assert tuple(getattr(next_day, k) for k in counted) == (6, 1, 3, 0.5)


def test_placement_falls_back_on_the_nil_the_producer_named() -> None:
    district = DistrictShape("d", parse_perimeter("Polygon", [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]))
    nil = NilShape(7, 100, parse_perimeter("Polygon", [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]))
    shop = Entity("shop:x", EntityType.SHOP, {"location": [0.5, 0.5], "nil_hint": 3})
    assert placement_of(shop, Locator(1, [district], [nil])).nil == 7
    placement = placement_of(shop, Locator(1, [district], []))
    assert placement.districts == ("d",) and placement.nil == 3
    nowhere = Entity("shop:y", EntityType.SHOP, {"location": None})
    assert placement_of(nowhere, Locator(1, [district], [nil])).districts == ()
