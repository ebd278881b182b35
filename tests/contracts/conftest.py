"""What the contract checks share: the official AsyncAPI 3.0 schema and each service's document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi import FastAPI

VENDOR = Path(__file__).resolve().parent / "vendor"
ASYNCAPI_SCHEMA = VENDOR / "asyncapi-3.0.0.schema.json"
PUBLISHERS = ("markets", "shops", "districts")


@pytest.fixture(scope="session")
def asyncapi_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(ASYNCAPI_SCHEMA.read_text()))


def service_app(service: str) -> FastAPI:
    module = __import__(f"{service}.main", fromlist=["app"])
    app: FastAPI = module.app
    return app


async def served_document(app: FastAPI) -> dict[str, Any]:
    """``GET /asyncapi.json`` of an app as it serves it (no lifespan: the document needs no I/O)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/asyncapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document
