"""The one way the platform retries: capped, jittered exponential backoff (stamina).

Background work that must outlast an outage of the broker or the database — connecting, the
bootstrap, the outbox relay, consumers — retries :func:`until_done`; work with a budget — a
handler before its event is dead-lettered, a transaction that meets write conflicts — retries
:func:`at_most` a number of attempts and then lets the last error through. Every scheduled retry
is logged with what is retried, why, and how long it waits.

Usage::

    async for attempt in until_done(KafkaError, "kafka producer connect"):
        with attempt:
            await producer.start()
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Callable

import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

log = logging.getLogger("retry")

Retryable = type[Exception] | tuple[type[Exception], ...] | Callable[[Exception], bool]
Attempts = AsyncIterable[stamina.Attempt]

MAX_WAIT_S = 5.0


def until_done(on: Retryable, name: str, *, first_wait_s: float = 0.2, max_wait_s: float = MAX_WAIT_S) -> Attempts:
    """Attempts without end until one succeeds; waits grow from ``first_wait_s`` to ``max_wait_s``."""
    return _attempts(on, name, None, first_wait_s, max_wait_s)


def at_most(
    attempts: int, on: Retryable, name: str, *, first_wait_s: float, max_wait_s: float = MAX_WAIT_S
) -> Attempts:
    """Up to ``attempts`` attempts; the last failure is raised to the caller."""
    return _attempts(on, name, attempts, first_wait_s, max_wait_s)


def _attempts(on: Retryable, name: str, attempts: int | None, first_wait_s: float, max_wait_s: float) -> Attempts:
    # jitter up to one first wait, so writers that collided do not collide again in step
    return stamina.retry_context(
        on=on,
        attempts=attempts,
        timeout=None,
        wait_initial=first_wait_s,
        wait_max=max_wait_s,
        wait_jitter=first_wait_s,
    ).with_name(name, (), {})


def _log_retry(details: RetryDetails) -> None:
    cause = details.caused_by
    log.warning(
        "%s failed (%s: %s); retry %d in %.2fs",
        details.name,
        type(cause).__name__,
        str(cause)[:300],
        details.retry_num,
        details.wait_for,
        extra={"retry_of": details.name, "retry_num": details.retry_num, "wait_s": round(details.wait_for, 3)},
    )


set_on_retry_hooks([_log_retry])
