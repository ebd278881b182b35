"""The services behind the gateway: which public path goes where, and a circuit breaker for each."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

# first segment of the service path -> the service that owns it
ROUTES: dict[str, str] = {
    "markets": "markets",
    "calls": "markets",
    "applications": "markets",
    "concessions": "markets",
    "shops": "shops",
    "services": "shops",
    "categories": "shops",
    "districts": "districts",
    "districts.geojson": "districts",
    "districts.csv": "districts",
    "nils": "districts",
    "nils.geojson": "districts",
    "interventions": "districts",
    "opendata": "districts",
}


def owner_of(service_path: str) -> str | None:
    """The service owning ``/markets/wagner`` (a path without the ``/api/v1`` prefix)."""
    return ROUTES.get(service_path.lstrip("/").split("/", 1)[0])


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Opens after ``failures`` transport failures in a row; after ``open_s`` lets one probe through.

    While open, callers fail at once instead of waiting on timeouts of a service that is down.
    """

    failures: int
    open_s: float
    clock: Callable[[], float] = time.monotonic
    state: CircuitState = CircuitState.CLOSED
    _consecutive: int = 0
    _opened_at: float = 0.0
    _probing: bool = field(default=False, repr=False)

    def admit(self) -> float | None:
        """None when a call may go ahead, else the seconds until the next probe."""
        if self.state is CircuitState.CLOSED:
            return None
        remaining = self._opened_at + self.open_s - self.clock()
        if self.state is CircuitState.OPEN and remaining <= 0:
            self.state = CircuitState.HALF_OPEN
            self._probing = False
        if self.state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return None
        return max(remaining, 0.1)

    def succeeded(self) -> None:
        self.state = CircuitState.CLOSED
        self._consecutive = 0
        self._probing = False

    def failed(self) -> None:
        self._consecutive += 1
        self._probing = False
        if self.state is CircuitState.HALF_OPEN or self._consecutive >= self.failures:
            self.state = CircuitState.OPEN
            self._opened_at = self.clock()


@dataclass
class Upstream:
    name: str
    base_url: str
    breaker: CircuitBreaker
