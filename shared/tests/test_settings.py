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
