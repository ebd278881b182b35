"""Settings refuse unsafe production configurations and map Kafka security options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.kafka import client_options
from shared.settings import ServiceSettings


def test_prod_profile_refuses_the_default_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(profile="prod")
    with pytest.raises(ValidationError, match="at least 32"):
        ServiceSettings(profile="prod", jwt_secret="short")
    assert ServiceSettings(profile="prod", jwt_secret="x" * 40).profile == "prod"


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
