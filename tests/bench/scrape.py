"""The services' own view of a phase, from their Prometheus ``/metrics`` read before and after it:
where the server-side time went (by route), and what was left queued (outbox backlog, consumer lag)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TOP_ROUTES = 12


async def scrape(http: httpx.AsyncClient, services: dict[str, str]) -> dict[str, Samples]:
    """Every sample of every service's ``/metrics`` (``services``: name -> base URL)."""
    found: dict[str, Samples] = {}
    for name, url in services.items():
        response = await http.get(f"{url}/metrics")
        response.raise_for_status()
        found[name] = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }
    return found


def _by_suffix(samples: Samples, suffix: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (name, labels), value in samples.items() if name.endswith(suffix)}


def server_side(before: dict[str, Samples], after: dict[str, Samples]) -> dict[str, Any]:
    """Server-side request time by route over the phase, and the queues each service had at its end."""
    routes = []
    queues: dict[str, dict[str, float]] = {}
    for service, now in after.items():
        then = before.get(service, {})
        sums = _by_suffix(now, "_http_request_duration_seconds_sum")
        counts = _by_suffix(now, "_http_request_duration_seconds_count")
        sums_then = _by_suffix(then, "_http_request_duration_seconds_sum")
        counts_then = _by_suffix(then, "_http_request_duration_seconds_count")
        for labels, total in sums.items():
            count = counts.get(labels, 0.0) - counts_then.get(labels, 0.0)
            spent = total - sums_then.get(labels, 0.0)
            if count > 0:
                label = dict(labels)
                routes.append(
                    {
                        "service": service,
                        "route": f"{label.get('method', '?')} {label.get('route', '?')}",
                        "requests": int(count),
                        "mean_ms": round(1000 * spent / count, 1),
                        "busy_s": round(spent, 1),
                    }
                )
        lag: dict[str, float] = defaultdict(float)
        for labels, value in _by_suffix(now, "_consumer_lag").items():
            lag[dict(labels).get("topic", "?")] += value
        backlog = sum(_by_suffix(now, "_outbox_backlog").values())
        queues[service] = {"outbox_backlog": backlog, **{f"lag {topic}": value for topic, value in lag.items()}}
    routes.sort(key=lambda row: -row["busy_s"])
    return {"routes": routes[:TOP_ROUTES], "queues_at_end": queues, "pipeline": _pipeline(before, after)}


def _mean_over(then: Samples, now: Samples, name: str) -> tuple[float, float]:
    """(count, mean) of a histogram over the phase, all labels together."""
    total = sum(_by_suffix(now, f"{name}_sum").values()) - sum(_by_suffix(then, f"{name}_sum").values())
    count = sum(_by_suffix(now, f"{name}_count").values()) - sum(_by_suffix(then, f"{name}_count").values())
    return count, (total / count if count else 0.0)


def _pipeline(before: dict[str, Samples], after: dict[str, Samples]) -> dict[str, dict[str, float]]:
    """Per service: events published and their mean age at the broker's acknowledgement (the relay's
    part); events applied, their mean age at commit, batches and their mean time, and (districts) KPI
    refreshes and their mean time: where a write's way to a KPI spends its time."""
    found: dict[str, dict[str, float]] = {}
    for service, now in after.items():
        then = before.get(service, {})
        published, publish_age = _mean_over(then, now, "_outbox_publish_age_seconds")
        relayed = {"published": int(published), "publish_age_mean_ms": round(1000 * publish_age, 1)}
        events, age = _mean_over(then, now, "_consumer_event_age_seconds")
        if not events:
            if published:
                found[service] = relayed
            continue
        batches, batch = _mean_over(then, now, "_consumer_batch_duration_seconds")
        refreshes, refresh = _mean_over(then, now, "_refresh_duration_seconds")
        found[service] = {
            **(relayed if published else {}),
            "events": int(events),
            "event_age_mean_ms": round(1000 * age, 1),
            "batches": int(batches),
            "batch_mean_ms": round(1000 * batch, 1),
            **({"refreshes": int(refreshes), "refresh_mean_ms": round(1000 * refresh, 1)} if refreshes else {}),
        }
    return found
