"""In-memory token buckets: per client address, per bearer token, per login source.

Each gateway replica keeps its own buckets, so behind N replicas a client gets at most N times
the configured rate; the limits are there to stop floods and password guessing, not to bill.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from shared.errors import TooManyRequests
from shared.i18n import Said


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate_per_s`` tokens refill continuously up to ``burst``; a request takes one."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def admit(self, key: str, refusal: Said, count_refusal: Callable[[], object]) -> None:
        """Take a token for ``key``, or refuse the request: 429 saying ``refusal``, the wait in
        ``Retry-After``, counted by ``count_refusal``."""
        wait = self.take(key)
        if wait:
            count_refusal()
            raise too_many_requests(wait, refusal)


def too_many_requests(wait_s: float, detail: Said) -> TooManyRequests:
    """429 with ``Retry-After`` in whole seconds (at least 1)."""
    return TooManyRequests(detail, math.ceil(wait_s))
