"""Prometheus metrics of one service, named ``<service>_<thing>_<unit>``, in its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The metrics every service exposes; a service adds its own to ``registry``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = self.counter(
            "http_requests", "HTTP requests by route template, method and status", ("route", "method", "status")
        )
        self.http_latency = self.histogram(
            "http_request_duration_seconds", "HTTP request latency by route template", ("route", "method")
        )
        self.events_published = self.counter(
            "events_published", "Events published to Kafka by the outbox relay", ("topic", "type")
        )
        self.events_consumed = self.counter(
            "events_consumed",
            "Events consumed, by outcome (processed, duplicate, dead_lettered)",
            ("topic", "type", "outcome"),
        )
        self.consumer_lag = self.gauge(
            "consumer_lag", "Messages behind the end of each consumed partition", ("topic", "partition")
        )
        self.outbox_backlog = self.gauge("outbox_backlog", "Events written to the outbox and not yet published")
        self.outbox_publish_failures = self.counter(
            "outbox_publish_failures", "Relay batches that could not be published"
        )
        self.outbox_publish_age = self.histogram(
            "outbox_publish_age_seconds",
            "From an event's write to the outbox to the broker's acknowledgement of it",
            ("topic",),
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
        )
        self.consumer_batch_duration = self.histogram(
            "consumer_batch_duration_seconds",
            "Time to apply one polled batch of events in its transaction (processed ids included)",
        )
        self.consumer_batch_size = self.histogram(
            "consumer_batch_size", "Events per applied batch", buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500)
        )
        self.consumer_event_age = self.histogram(
            "consumer_event_age_seconds",
            "From an event's time (its write at the source) to its projection being committed here",
            ("topic",),
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
        )
        self.consumer_retries = self.counter(
            "consumer_retries", "Handler attempts that failed and were retried", ("topic",)
        )

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(f"{self.service}_{name}", doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(f"{self.service}_{name}", doc, list(labels), registry=self.registry)

    def histogram(
        self, name: str, doc: str, labels: tuple[str, ...] = (), buckets: tuple[float, ...] = LATENCY_BUCKETS
    ) -> Histogram:
        return Histogram(f"{self.service}_{name}", doc, list(labels), buckets=buckets, registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
