"""The vitality index: each component, the weighting, and what is left out where nothing can be measured."""

from __future__ import annotations

from typing import Any

from districts.projection.domain import Kpis, Measures
from districts.projection.vitality import WEIGHTS, Targets, vitality


def measures(
    historic_known: int = 0, weekly_minutes: int = 0, evening_minutes: int = 0, weekend_minutes: int = 0, **kpis: Any
) -> Measures:
    return Measures(Kpis(**kpis), historic_known, weekly_minutes, evening_minutes, weekend_minutes)


def test_every_component_scored_and_explained() -> None:
    result = vitality(
        measures(
            shops_active=100,
            openings_30d=4,
            closures_30d=1,
            stalls_total=20,
            stalls_vacant=5,
            stall_occupancy=0.75,
            historic_active=8,
            historic_known=10,
            services_total=30,
            population=20000,
            weekly_minutes=10000,
            evening_minutes=1000,
            weekend_minutes=2000,
        ),
        Targets(services_per_1000=1.0, extended_hours_share=0.4),
    )
    by_name = {c.name: c for c in result.components}
    assert by_name["net_openings"].value == 3.0 and by_name["net_openings"].score == 80.0
    assert by_name["stall_occupancy"].score == 75.0
    assert by_name["historic_survival"].value == 0.8 and by_name["historic_survival"].score == 80.0
    assert by_name["service_coverage"].value == 1.5 and by_name["service_coverage"].score == 100.0
    assert by_name["extended_hours"].value == 0.3 and by_name["extended_hours"].score == 75.0
    assert [c.weight for c in result.components] == list(WEIGHTS.values())
    assert result.index == round(0.25 * 80 + 0.2 * 75 + 0.2 * 80 + 0.2 * 100 + 0.15 * 75, 1)
    assert "4 openings and 1 closure in 30 days for 100 active businesses" in by_name["net_openings"].explanation
    assert "20,000 residents" in by_name["service_coverage"].explanation
    italian = {name: c.explanation_it for name, c in by_name.items()}
    assert italian["net_openings"].startswith(
        "4 aperture e 1 chiusura in 30 giorni su 100 attività attive: saldo +3,0 %"
    )
    assert (
        "30 servizi di prossimità per 20.000 residenti: 1,50 ogni 1.000 (1 ogni 1.000 vale 100)"
        in italian["service_coverage"]
    )
    assert (
        italian["stall_occupancy"].startswith("posteggi") is False
        and "sono assegnati (75%)" in italian["stall_occupancy"]
    )
    assert italian["historic_survival"] == "8 delle 10 botteghe storiche note sono ancora attive (80%)"
    assert italian["extended_hours"].startswith("il 30% delle ore settimanali di servizio cade la sera")


def test_what_cannot_be_measured_is_left_out_and_its_weight_shared() -> None:
    result = vitality(measures(shops_active=10, closures_30d=1, historic_known=0), Targets())
    counted = [c for c in result.components if c.score is not None]
    assert [c.name for c in counted] == ["net_openings"] and counted[0].weight == 1.0
    assert counted[0].score == 0.0 and result.index == 0.0, "losing 10 % of businesses in a month scores 0"
    assert all(c.explanation.startswith("not counted") for c in result.components if c.score is None)
    assert all(c.explanation_it.startswith("non conteggiata") for c in result.components if c.score is None)
    assert vitality(measures(), Targets()).index is None
