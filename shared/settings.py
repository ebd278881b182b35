"""Settings common to every service, read from the environment (pydantic-settings)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})

# The platform's services and the port each serves on by default (the gateway first: the others
# fetch its token keys before they are ready), and the topic each one publishes its events on.
SERVICE_PORTS = {"gateway": 8000, "markets": 8001, "shops": 8002, "districts": 8003}
EVENT_TOPICS = {"markets": "markets.events", "shops": "shops.events", "districts": "districts.events"}


def local_url(service: str) -> str:
    """Where ``service`` answers on this machine with its default port."""
    return f"http://127.0.0.1:{SERVICE_PORTS[service]}"


def is_loopback(host: str) -> bool:
    """True for a loopback address or name (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServiceSettings(BaseSettings):
    """One settings object per process; services subclass it and add their own fields."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "service"
    profile: Literal["local", "test", "prod"] = "local"
    # the address the process binds (the images pass it to uvicorn); the local profile accepts loopback only
    host: str = "127.0.0.1"
    port: int = 8000
    # peers whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs, comma-separated):
    # uvicorn reads the same variable; in prod it names the ingress controller's addresses, never "*"
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "INFO"

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_request_timeout_ms: int = 10000
    # How long the broker may hold a fetch that finds nothing new. Kafka answers a waiting fetch as
    # soon as a record arrives, so in production the wait costs no freshness and a longer one means
    # fewer idle fetches. The local broker answers it late (up to about half the wait after the
    # record): the local stack runs with 100 ms (devkit/stack/components.py), which took a fetch's
    # p50/p99 from 108/110 to 33/56 ms on an empty partition and from 152/194 to 76/133 ms at 10,000
    # batches, for more broker CPU on long partitions (docs/benchmarks.md, "Broker store").
    kafka_fetch_max_wait_ms: int = 250
    kafka_topic_partitions: int = 3
    kafka_create_topics: bool = True
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None

    mongo_url: str = "mongodb://127.0.0.1:27017/?retryWrites=false&directConnection=true"
    mongo_db: str = ""
    mongo_timeout_ms: int = 2000
    # CA of the MongoDB members' certificates: when set, every connection uses TLS and checks them
    mongo_tls_ca_file: str | None = None

    jwt_issuer: str = "milano-commerce"
    jwt_audience: str = "milano-commerce-api"
    # where the gateway serves its public keys and revocation list (services poll it; see shared/tokens.py)
    gateway_url: str = local_url("gateway")
    # a JWKS document of trusted public keys given directly (then the keys are not fetched)
    jwt_public_keys: str | None = None
    token_keys_refresh_s: float = Field(default=300.0, gt=0)
    # revoked tokens are refused by every service within this many seconds
    revocation_poll_s: float = Field(default=15.0, gt=0, le=60)

    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    outbox_poll_interval_s: float = Field(default=0.5, gt=0)
    consumer_max_retries: int = Field(default=4, ge=0, le=20)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    max_body_bytes: int = 1_000_000
    # a request under an Idempotency-Key that has not answered within this long is taken as dead:
    # a retry with the same key runs it again (shared/web/idempotency.py)
    idempotency_lease_s: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _refuse_exposed_local_profile(self) -> ServiceSettings:
        if self.profile == "local" and not is_loopback(self.host):
            raise ValueError(
                f"the local profile (demo accounts, default secrets) binds loopback only, not HOST={self.host}; "
                "set PROFILE=prod with real secrets to serve on other addresses"
            )
        return self

    @model_validator(mode="after")
    def _refuse_untrusted_forwarding(self) -> ServiceSettings:
        entries = [e.strip() for e in self.forwarded_allow_ips.split(",") if e.strip()]
        if "*" in entries:
            if self.profile == "prod":
                raise ValueError(
                    "FORWARDED_ALLOW_IPS=* lets any client choose its address: name the ingress controller's CIDR"
                )
            return self
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or CIDR") from exc
        return self

    @property
    def database_name(self) -> str:
        return self.mongo_db or self.service_name
