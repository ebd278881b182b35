"""Alert conditions: raised once, resolved once, no flapping in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from districts.alerts.domain import Thresholds, decide, peak, readings, record_peak
from districts.alerts.schemas import ThresholdsBody
from districts.projection.domain import Kpis
from pydantic import ValidationError


def run(values: list[Kpis], thresholds: Thresholds, peaks: list[float | None] | None = None) -> list[tuple[str, str]]:
    """Feed KPIs one after the other; return the decisions as (action, key)."""
    open_keys: set[str] = set()
    log: list[tuple[str, str]] = []
    for i, kpis in enumerate(values):
        for decision in decide(readings(kpis, thresholds, (peaks or [None] * len(values))[i]), open_keys):
            log.append((decision.action, decision.reading.key))
            (open_keys.add if decision.action == "raise" else open_keys.discard)(decision.reading.key)
    return log


def test_occupancy_hovering_around_the_threshold_raises_and_resolves_once() -> None:
    hovering = [0.70, 0.59, 0.61, 0.58, 0.62, 0.64, 0.66, 0.61, 0.63, 0.59]
    log = run([Kpis(stall_occupancy=v) for v in hovering], Thresholds())
    assert log == [
        ("raise", "low_occupancy"),
        ("resolve", "low_occupancy"),
        ("raise", "low_occupancy"),
    ], "0.59 raises, 0.61-0.64 change nothing, 0.66 resolves, 0.61-0.63 stay quiet, 0.59 raises anew"


def test_historic_closures_vitality_drop_and_missing_services() -> None:
    closures = [Kpis(historic_closures_30d=n) for n in (0, 3, 2, 4, 2, 1, 2)]
    assert run(closures, Thresholds()) == [("raise", "historic_closures"), ("resolve", "historic_closures")]

    index = [60.0, 55.0, 49.0, 52.0, 54.0, 56.0]
    drops = run([Kpis(vitality_index=v) for v in index], Thresholds(), peaks=[60.0] * len(index))
    assert drops == [("raise", "vitality_drop"), ("resolve", "vitality_drop")]

    limits = Thresholds(required_services=("ritiro_pacchi", "ritiro_pacchi"))
    assert limits.required_services == ("ritiro_pacchi",)
    assert ThresholdsBody(required_services=["ritiro_pacchi", "ritiro_pacchi"]).required_services == ["ritiro_pacchi"]
    services = [Kpis(), Kpis(), Kpis(services_by_type={"ritiro_pacchi": 2})]
    assert run(services, limits) == [
        ("raise", "service_missing:ritiro_pacchi"),
        ("resolve", "service_missing:ritiro_pacchi"),
    ]


def test_an_alert_no_longer_monitored_is_resolved() -> None:
    decisions = decide(readings(Kpis(), Thresholds(), None), {"low_occupancy", "service_missing:ritiro_pacchi"})
    assert sorted((d.action, d.reading.key, d.reading.detail.en, d.reading.detail.it) for d in decisions) == [
        ("resolve", "low_occupancy", "no longer monitored", "non più monitorata"),
        ("resolve", "service_missing:ritiro_pacchi", "no longer monitored", "non più monitorata"),
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"occupancy_below": 0.6, "occupancy_recovered_at": 0.59}, "occupancy_recovered_at"),
        ({"historic_closures_at": 3, "historic_closures_recovered_at": 3}, "historic_closures_recovered_at"),
        ({"vitality_drop_over": 10, "vitality_drop_recovered_at": 10}, "vitality_drop_recovered_at"),
        ({"required_services": [{"$gt": ""}]}, "required_services"),
        ({"occupancy_below": 2}, "occupancy_below"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_thresholds_that_would_flap_or_inject_are_refused(values: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ThresholdsBody.model_validate(values)
    assert caught.value.errors()[0]["loc"][0] == field


def test_vitality_peaks_are_hourly_and_expire() -> None:
    start = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    peaks = record_peak({}, start, 70.0)
    peaks = record_peak(peaks, start + timedelta(minutes=20), 65.0)
    peaks = record_peak(peaks, start + timedelta(days=3), 50.0)
    assert peaks == {"2026-03-01T10": 70.0, "2026-03-04T10": 50.0}
    assert peak(peaks, start + timedelta(days=3), 7) == 70.0
    assert peak(peaks, start + timedelta(days=9), 7) == 50.0
    assert record_peak(peaks, start + timedelta(days=40), None) == {}


def test_what_an_alert_says_is_written_in_italian_and_english() -> None:
    found = {r.key: r.detail for r in readings(Kpis(stall_occupancy=0.4, vitality_index=50.5), Thresholds(), 62.0)}
    assert found["low_occupancy"].it.startswith("occupazione dei posteggi 40% (allerta sotto ")
    assert found["low_occupancy"].en.startswith("stall occupancy 40% (alert below ")
    assert found["vitality_drop"].it.startswith(
        "vitalità 50,5, 11,5 punti sotto il massimo di 62 degli ultimi 7 giorni"
    )
    assert found["vitality_drop"].en.startswith("vitality 50.5, 11.5 points below its 7-day high of 62")
