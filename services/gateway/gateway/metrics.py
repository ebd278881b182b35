"""The gateway's own metrics, registered beside the shared request metrics."""

from __future__ import annotations

from shared.metrics import ServiceMetrics


class GatewayMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        self.upstream_latency = metrics.histogram(
            "upstream_request_duration_seconds", "Time spent waiting for a service, by service", ("upstream",)
        )
        self.upstream_failures = metrics.counter(
            "upstream_failures", "Calls to a service that failed or were refused by its open circuit", ("upstream",)
        )
        self.circuit_open = metrics.gauge(
            "upstream_circuit_open", "1 while the circuit to a service is open (calls fail fast)", ("upstream",)
        )
        self.auth_failures = metrics.counter("auth_failures", "Refused logins and tokens, by reason", ("reason",))
        self.rate_limited = metrics.counter("rate_limited", "Requests refused with 429, by limit", ("limit",))
        self.sse_clients = metrics.gauge("sse_clients", "Clients connected to the live stream")
        self.sse_dropped = metrics.counter("sse_dropped_clients", "Live-stream clients dropped for not keeping up")
        self.stream_events = metrics.counter(
            "stream_events", "Events received from the topics for the live stream", ("topic",)
        )
        self.consumer_lag = metrics.consumer_lag
