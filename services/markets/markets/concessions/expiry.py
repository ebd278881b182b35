"""The scheduled job of each replica that expires concessions past their end and frees their stalls.

It runs once when the service is ready and then every ``interval_s``; every run is idempotent and
any number of replicas may run it at once (see :meth:`ConcessionsService.expire`). A failed run
(the database unreachable) is retried with the platform's backoff until it succeeds or the
service stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from markets.concessions.service import ConcessionsService
from shared.retry import until_done
from shared.tasks import finish


@dataclass(eq=False)
class ExpiryJob:
    concessions: ConcessionsService
    interval_s: float
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="concession-expiry")

    async def stop(self) -> None:
        self._stopping.set()
        await finish(self._task, 10)

    async def run_once(self) -> int:
        """Expire what is due now; how many concessions this run expired.

        Concessions granted before they had records get one first, so they expire too.
        """
        await self.concessions.record_unrecorded()
        return await self.concessions.expire_due()

    def _retryable(self, exc: Exception) -> bool:
        return not self._stopping.is_set()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                async for attempt in until_done(self._retryable, "concession expiry"):
                    with attempt:
                        await self.run_once()
            except Exception:  # noqa: BLE001 - only a failure while stopping gets here
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
