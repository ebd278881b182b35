"""Settings refuse unsafe production configurations and map Kafka security options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.kafka import client_options
from shared.settings import ServiceSettings


def test_services_hold_no_signing_secret() -> None:
    """A service's settings carry only where to fetch public keys; nothing that could sign a token."""
    settings = ServiceSettings(profile="prod")
    assert not any("secret" in name or "private" in name for name in ServiceSettings.model_fields)
    assert settings.gateway_url and settings.jwt_public_keys is None
    with pytest.raises(ValidationError, match="revocation_poll_s"):
        ServiceSettings(revocation_poll_s=61)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "kafka-0:9093")
    monkeypatch.setenv("MONGO_DB", "markets")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap == "kafka-0:9093" and settings.database_name == "markets"


def test_kafka_sasl_ssl_options() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="markets",
        kafka_sasl_password="secret",
    )
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512" and options["sasl_plain_username"] == "markets"
    assert "ssl_context" in options
    assert "sasl_mechanism" not in client_options(ServiceSettings())


def test_the_local_profile_refuses_to_bind_a_non_loopback_address() -> None:
    for host in ("0.0.0.0", "192.0.2.7", "::", "commerce.example.org"):
        with pytest.raises(ValidationError, match="loopback only"):
            ServiceSettings(profile="local", host=host)
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert ServiceSettings(profile="local", host=host).host == host
    assert ServiceSettings(profile="prod", host="0.0.0.0").host == "0.0.0.0"


def test_the_local_profile_refuses_the_images_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """An image (HOST=0.0.0.0) started with PROFILE=local does not start."""
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PROFILE", "local")
    with pytest.raises(ValidationError, match="loopback only"):
        ServiceSettings()


def test_forwarded_addresses_are_trusted_only_from_named_networks() -> None:
    prod = {"profile": "prod"}
    with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS"):
        ServiceSettings(**prod, forwarded_allow_ips="*")
    with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS"):
        ServiceSettings(**prod, forwarded_allow_ips="10.0.0.0/8, *")
    with pytest.raises(ValidationError, match="not an IP address or CIDR"):
        ServiceSettings(forwarded_allow_ips="ingress-nginx")
    assert ServiceSettings(**prod, forwarded_allow_ips="10.100.0.0/24, 10.101.0.5").profile == "prod"
