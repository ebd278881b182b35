"""A service offer added under an Idempotency-Key: the retry gets the first answer, and the nearest
point index (updated once the keyed request has committed) holds the offer once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.integration

KIOSK = {"kind": "kiosk", "name": "Edicola Garibaldi", "location": {"lon": 9.1873, "lat": 45.4843}}
PARCELS = {"service": "ritiro_pacchi", "hours": [{"day": 0, "opens": "09:00", "closes": "13:00"}], "note": ""}


async def test_an_offer_added_under_a_retried_key_is_added_and_found_once(service: Any) -> None:
    client, office = service.client, service.office
    assert (await client.put("/shops/ed-garibaldi", json=KIOSK, headers=office)).status_code == 201
    keyed = {**service.shopkeeper("ed-garibaldi"), "Idempotency-Key": f'"{uuid.uuid4()}"'}
    first = await client.post("/shops/ed-garibaldi/services", json=PARCELS, headers=keyed)
    again = await client.post("/shops/ed-garibaldi/services", json=PARCELS, headers=keyed)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert (await client.get("/shops/ed-garibaldi/services")).json()["total"] == 1
    nearest = await client.get(
        "/services/nearest",
        params={"service": "ritiro_pacchi", "lon": 9.1873, "lat": 45.4840, "open_at": "2026-07-06T10:00"},
    )
    assert [i["service_id"] for i in nearest.json()["items"]] == [first.json()["id"]]


async def test_an_upload_retried_with_its_key_is_stored_once(service: Any) -> None:
    client, office = service.client, service.office
    assert (await client.put("/shops/ed-garibaldi-2", json=KIOSK, headers=office)).status_code == 201
    keyed = {**office, "Idempotency-Key": f'"{uuid.uuid4()}"'}
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    # the same bytes again, as a client's retry sends them (the form read by its parser, not kept)
    body, boundary = b"", "idem-boundary"
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="visura.pdf"\r\n'.encode()
    body += b"Content-Type: application/pdf\r\n\r\n" + pdf + f"\r\n--{boundary}--\r\n".encode()
    upload = {**keyed, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    first = await client.post("/shops/ed-garibaldi-2/documents", content=body, headers=upload)
    again = await client.post("/shops/ed-garibaldi-2/documents", content=body, headers=upload)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await client.post("/shops/ed-garibaldi-2/documents", content=body.replace(b"1.7", b"1.6"), headers=upload)
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert (await client.get("/shops/ed-garibaldi-2/documents", headers=office)).json()["total"] == 1
