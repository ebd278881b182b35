"""Ending a part's background tasks, the same way everywhere.

A part that runs in the background (a relay, a consumer, a scheduled job, a poller) keeps its
``asyncio.Task`` and ends it when the service stops: :func:`finish` lets a task that was told to
stop end by itself within a time limit, :func:`cancel` ends tasks at once; both return only when
the tasks have ended.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def finish(task: asyncio.Task[Any] | None, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``task`` (already told to stop) to end by itself, and cancel it
    when it does not; True when it ended in time (no task: nothing to wait for)."""
    if task is None:
        return True
    try:
        await asyncio.wait_for(task, timeout_s)
    except TimeoutError:
        task.cancel()
        return False
    return True


async def cancel(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel ``tasks`` (None ones are skipped) and wait until they have ended; how they ended
    (cancelled, or an error of their last moment) is not the caller's concern."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
