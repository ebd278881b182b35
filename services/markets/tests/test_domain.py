"""Stall rules as an operator and the office expect them: transitions, assignment, the 1/5 cap."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from markets.concessions.domain import Concession, ConcessionRecord, ConcessionState, concession_end
from markets.stalls.domain import (
    Market,
    Occupancy,
    Stall,
    StallCategory,
    StallStatus,
    Surface,
    check_food_service_cap,
    number_order,
)

from shared.errors import Conflict, PreconditionFailed
from shared.i18n import Said
from shared.places import Location
from shared.versions import Precondition

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPEN, CLOSED, VACANT, MAINTENANCE = StallStatus.OPEN, StallStatus.CLOSED, StallStatus.VACANT, StallStatus.MAINTENANCE
HOLDER = Concession("Macelleria Rossi", date(2026, 1, 1), date(2046, 1, 1))


def stall(
    status: StallStatus = VACANT,
    *,
    holder: bool = False,
    number: str = "1",
    area: float = 20.0,
    category: StallCategory = StallCategory.FOOD,
) -> Stall:
    return Stall("wagner", number, area, category, status, 3, AT, HOLDER if holder else None)


ALLOWED = [
    (OPEN, CLOSED, True),
    (OPEN, MAINTENANCE, True),
    (CLOSED, OPEN, True),
    (CLOSED, MAINTENANCE, True),
    (MAINTENANCE, CLOSED, True),
    (VACANT, MAINTENANCE, False),
    (MAINTENANCE, VACANT, False),
]
REFUSED = [
    (VACANT, OPEN, False, "cannot be opened"),
    (VACANT, CLOSED, False, "no holder"),
    (MAINTENANCE, OPEN, True, "set it to closed before opening"),
    (MAINTENANCE, OPEN, False, "cannot be opened"),
    (MAINTENANCE, CLOSED, False, "no holder"),
    (OPEN, VACANT, True, "free it"),
    (CLOSED, VACANT, True, "free it"),
    (MAINTENANCE, VACANT, True, "free it"),
]


@pytest.mark.parametrize(("start", "to", "assigned"), ALLOWED)
def test_allowed_transitions_bump_the_version(start: StallStatus, to: StallStatus, assigned: bool) -> None:
    later = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    changed = stall(start, holder=assigned).change_status(to, later)
    assert (changed.status, changed.version, changed.updated_at, changed.holder) == (
        to,
        4,
        later,
        HOLDER.holder if assigned else None,
    )


@pytest.mark.parametrize(("start", "to", "assigned", "reason"), REFUSED)
def test_illegal_transitions_say_why(start: StallStatus, to: StallStatus, assigned: bool, reason: str) -> None:
    with pytest.raises(Conflict) as refused:
        stall(start, holder=assigned).change_status(to, AT)
    assert re.search(reason, refused.value.detail_in("en"))


@pytest.mark.parametrize("status", list(StallStatus))
def test_asking_for_the_current_status_changes_nothing(status: StallStatus) -> None:
    current = stall(status, holder=status in (OPEN, CLOSED))
    assert current.change_status(status, AT) is current


def test_assigning_closes_a_vacant_stall_and_keeps_maintenance() -> None:
    assigned = stall(VACANT).assign(HOLDER, StallCategory.CRAFT, AT)
    assert (assigned.status, assigned.holder, assigned.category, assigned.version) == (
        CLOSED,
        "Macelleria Rossi",
        StallCategory.CRAFT,
        4,
    )
    assert stall(MAINTENANCE).assign(HOLDER, StallCategory.FOOD, AT).status is MAINTENANCE
    with pytest.raises(Conflict) as refused:
        assigned.assign(HOLDER, StallCategory.FOOD, AT)
    assert "already assigned to Macelleria Rossi" in refused.value.detail_in("en")
    assert "già assegnato a Macelleria Rossi" in refused.value.detail_in("it")


@pytest.mark.parametrize("status", [OPEN, CLOSED, MAINTENANCE])
def test_freeing_makes_the_stall_vacant(status: StallStatus) -> None:
    freed = stall(status, holder=True).release(AT)
    assert (freed.status, freed.holder, freed.version) == (VACANT, None, 4)
    with pytest.raises(Conflict) as refused:
        freed.release(AT)
    assert "no holder to free" in refused.value.detail_in("en")


def test_food_service_may_use_at_most_a_fifth_of_the_market_surface() -> None:
    # 100 m² in all: 20 m² of food service is the cap; 12 m² are already in use.
    market = [
        stall(OPEN, holder=True, number="1", area=12, category=StallCategory.FOOD_SERVICE),
        stall(VACANT, number="2", area=8),
        stall(VACANT, number="3", area=9),
        stall(OPEN, holder=True, number="4", area=71),
    ]
    surface = Surface.of(market)
    assert (surface.total_m2, surface.food_service_m2, surface.food_service_cap_m2) == (100, 12, 20)
    check_food_service_cap(market[1], StallCategory.FOOD_SERVICE, market)  # 12 + 8 = 20: exactly the cap
    with pytest.raises(Conflict) as refused:
        check_food_service_cap(market[2], StallCategory.FOOD_SERVICE, market)
    assert "would be 21.0 m², over the cap of 20.0 m²" in refused.value.detail_in("en")
    assert "sarebbe di 21,0 m², oltre il limite di 20,0 m²" in refused.value.detail_in("it")
    check_food_service_cap(market[2], StallCategory.FOOD, market)
    # a vacant stall labelled food service uses no food-service surface until it is assigned
    labelled = [*market[1:], replace(market[0], concession=None, status=VACANT)]
    assert Surface.of(labelled).food_service_m2 == 0


def test_occupancy_counts_stalls_not_vacant_and_open_ones() -> None:
    occupancy = Occupancy.of([stall(OPEN, holder=True), stall(CLOSED, holder=True), stall(VACANT), stall(MAINTENANCE)])
    assert occupancy.stalls_total == 4 and occupancy.open_now == 1 and occupancy.occupancy_rate == 0.75
    assert occupancy.by_status == {OPEN: 1, CLOSED: 1, VACANT: 1, MAINTENANCE: 1}
    assert Occupancy.of([]).occupancy_rate == 0.0


def test_version_checks_and_natural_stall_order() -> None:
    # a stall's writes state the version read as If-Match, in the body (``version``), or both
    stall_1 = Said("il banco 1", "stall 1")
    Precondition(frozenset({3})).and_version(3).check(3, stall_1)
    Precondition.any().and_version(None).check(3, stall_1)
    with pytest.raises(PreconditionFailed) as refused:
        Precondition.any().and_version(2).check(3, stall_1)
    assert "stall 1 is at version 3, not 2" in refused.value.detail_in("en")
    with pytest.raises(PreconditionFailed) as refused:
        Precondition(frozenset()).and_version(None).check(3, stall_1)
    assert "If-Match" in refused.value.detail_in("en")
    assert sorted(["10", "2", "A10", "A2", "1"], key=number_order) == ["1", "2", "10", "A2", "A10"]
    assert concession_end(date(2024, 2, 29), 20) == date(2044, 2, 29)
    assert concession_end(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_a_market_changes_only_what_differs() -> None:
    wagner = Market("wagner", "Mercato Wagner", "Piazza Wagner", 7, Location(9.158, 45.468), 1, AT, AT, boxes=31)
    later = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert wagner.changed({"name": "Mercato Wagner", "boxes": 31}, later) is wagner
    moved = wagner.changed({"location": Location(9.16, 45.47), "boxes": None, "name": "Mercato Wagner"}, later)
    assert (moved.location, moved.boxes, moved.name, moved.version, moved.updated_at) == (
        Location(9.16, 45.47),
        None,
        "Mercato Wagner",
        2,
        later,
    )
    assert moved.created_at == AT
    with pytest.raises(ValueError, match="version"):
        wagner.changed({"version": 9}, later)


def test_a_concession_expires_only_past_its_end_and_says_so_in_both_languages() -> None:
    terms = Concession("Macelleria Rossi", date(2026, 1, 1), date(2026, 12, 31), None, "c-7")
    record = ConcessionRecord.granted("wagner", "7", terms, AT)
    with pytest.raises(Conflict) as refused:
        record.expire(date(2026, 12, 31), AT)
    assert refused.value.detail_in("it") == "la concessione c-7 non scade il 2026-12-31"
    assert refused.value.detail_in("en") == "concession c-7 is not due to expire on 2026-12-31"
    assert record.expire(date(2027, 1, 1), AT).state is ConcessionState.EXPIRED
