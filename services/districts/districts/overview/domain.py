"""The districts' picture as the API shows it: each definition with its figures and open alerts."""

from __future__ import annotations

from dataclasses import dataclass

from districts.alerts.domain import Alert
from districts.geography.domain import District, Nil
from districts.projection.vitality import AreaFigures


@dataclass(frozen=True)
class DistrictView:
    district: District
    figures: AreaFigures
    open_alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class NilView:
    nil: Nil
    figures: AreaFigures
