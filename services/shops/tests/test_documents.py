"""A shop's documents in GridFS: type read from the content, 10 MiB at most, readable by the shop and the office only."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.identity import Role

pytestmark = pytest.mark.integration

HERE = {"lon": 9.1780, "lat": 45.4720}
LIMIT = 10 * 1024 * 1024  # 10 MiB, as docs/api.md states
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 40
RECOGNITION = {"founding_year": 1950, "trade": "Drogheria", "continuity": "stessa famiglia dal 1950"}


async def a_shop(service: Any, shop_id: str) -> None:
    body = {"id": shop_id, "kind": "shop", "name": f"Bottega {shop_id}", "location": HERE}
    assert (await service.client.post("/shops", json=body, headers=service.office)).status_code == 201


async def upload(
    service: Any, shop_id: str, name: str, content: bytes, headers: dict[str, str], kind: str = "application/pdf"
) -> Any:
    return await service.client.post(
        f"/shops/{shop_id}/documents", files={"file": (name, content, kind)}, headers=headers
    )


async def stored_chunks(service: Any) -> int:
    db = service.app.state.runtime.mongo.db
    return int(await db["documents.chunks"].count_documents({}))


async def test_documents_are_stored_and_read_back_by_the_shop_and_the_office_only(service: Any) -> None:
    client = service.client
    await a_shop(service, "bs-carte")
    await a_shop(service, "bs-vicina")
    keeper = service.shopkeeper("bs-carte")
    added = await upload(service, "bs-carte", "atto costitutivo.pdf", PDF, keeper)
    assert added.status_code == 201, added.text
    document = added.json()
    assert document["content_type"] == "application/pdf" and document["size"] == len(PDF)
    assert document["filename"] == "atto costitutivo.pdf" and document["uploaded_by"] == "keeper-bs-carte"
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    photo = await upload(service, "bs-carte", "vetrina.bin", PNG, service.office, kind="application/octet-stream")
    assert photo.status_code == 201 and photo.json()["content_type"] == "image/png", "the content decides"
    sign = await upload(service, "bs-carte", "insegna.png", JPEG, keeper, kind="image/png")
    assert sign.status_code == 201 and sign.json()["content_type"] == "image/jpeg"

    path = f"/shops/bs-carte/documents/{document['id']}"
    for allowed in (keeper, service.office):
        read = await client.get(path, headers=allowed)
        assert read.status_code == 200 and read.content == PDF
        assert read.headers["content-type"] == "application/pdf"
        assert read.headers["content-length"] == str(len(PDF))
        assert read.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=service.shopkeeper("bs-vicina"))).status_code == 403
    assert (await client.get(path, headers=service.auth(Role.MARKET_OPERATOR, "wagner"))).status_code == 403
    assert (await client.get(f"/shops/bs-vicina/documents/{document['id']}", headers=service.office)).status_code == 404
    assert (await client.get("/shops/bs-carte/documents/doc-0000", headers=keeper)).status_code == 404

    listed = await client.get("/shops/bs-carte/documents", headers=keeper)
    assert listed.status_code == 200 and listed.json()["total"] == 3
    assert [d["id"] for d in listed.json()["items"]] == [document["id"], photo.json()["id"], sign.json()["id"]]
    assert (await client.get("/shops/bs-carte/documents", headers=service.shopkeeper("bs-vicina"))).status_code == 403
    assert (await client.get("/shops/bs-carte/documents")).status_code == 401

    refused = await upload(service, "bs-carte", "altro.pdf", PDF, service.shopkeeper("bs-vicina"))
    assert refused.status_code == 403
    assert (await upload(service, "bs-carte", "altro.pdf", PDF, {})).status_code == 401
    again = await upload(service, "bs-carte", "copia.pdf", PDF, keeper)
    assert again.status_code == 200 and again.json()["id"] == document["id"], "the same file twice is one document"
    assert (await client.get("/shops/bs-carte/documents", headers=keeper)).json()["total"] == 3


async def test_what_is_not_a_pdf_jpeg_or_png_or_is_too_large_is_refused_and_leaves_nothing(service: Any) -> None:
    client = service.client
    await a_shop(service, "bs-rifiuti")
    keeper = service.shopkeeper("bs-rifiuti")
    chunks = await stored_chunks(service)

    text = await upload(service, "bs-rifiuti", "statuto.pdf", b"Statuto della ditta, anno 1950\n" * 20, keeper)
    assert text.status_code == 415 and text.headers["content-type"].startswith("application/problem+json")
    assert text.json()["accepted"] == ["application/pdf", "image/png", "image/jpeg"]
    italian = await upload(service, "bs-rifiuti", "x.pdf", b"<html>", {**keeper, "Accept-Language": "it"})
    assert italian.status_code == 415 and "si accettano solo PDF, JPEG e PNG" in italian.json()["detail"]
    english = await upload(service, "bs-rifiuti", "x.pdf", b"<html>", {**keeper, "Accept-Language": "en"})
    assert "only PDF, JPEG and PNG are accepted" in english.json()["detail"]
    assert (await upload(service, "bs-rifiuti", "vuoto.pdf", b"", keeper)).status_code == 415
    gif = await upload(service, "bs-rifiuti", "foto.png", b"GIF89a" + b"\x00" * 30, keeper, kind="image/png")
    assert gif.status_code == 415

    largest = b"%PDF-1.4\n" + b"0" * (LIMIT - 9)
    over = largest + b"0"
    assert len(over) == LIMIT + 1
    too_large = await upload(service, "bs-rifiuti", "scansione.pdf", over, keeper)
    assert too_large.status_code == 413 and too_large.json()["max_bytes"] == LIMIT
    missing = await client.post("/shops/bs-rifiuti/documents", data={"other": "x"}, headers=keeper)
    assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == ["body.file"]
    assert (await client.get("/shops/bs-rifiuti/documents", headers=keeper)).json()["total"] == 0
    assert await stored_chunks(service) == chunks, "a refused file leaves no chunk behind"

    exactly = await upload(service, "bs-rifiuti", "scansione.pdf", largest, keeper)
    assert exactly.status_code == 201 and exactly.json()["size"] == LIMIT
    read = await client.get(f"/shops/bs-rifiuti/documents/{exactly.json()['id']}", headers=keeper)
    assert read.status_code == 200 and len(read.content) == LIMIT and read.content == largest


async def test_an_endless_upload_is_cut_off_at_the_limit(service: Any) -> None:
    await a_shop(service, "bs-flusso")
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        boundary_head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-'
        yield boundary_head
        while sent < 50 * LIMIT:
            sent += 1024 * 1024
            yield b"0" * (1024 * 1024)

    headers = {**service.shopkeeper("bs-flusso"), "Content-Type": "multipart/form-data; boundary=b"}
    answer = await service.client.post("/shops/bs-flusso/documents", content=endless(), headers=headers)
    assert answer.status_code == 413
    assert sent <= 12 * 1024 * 1024, f"read {sent} bytes of an endless body"


async def test_a_recognition_application_cites_only_the_shops_own_documents(service: Any) -> None:
    client = service.client
    await a_shop(service, "bs-domanda")
    await a_shop(service, "bs-estranea")
    own = (await upload(service, "bs-domanda", "licenza.pdf", PDF, service.shopkeeper("bs-domanda"))).json()["id"]
    other = (await upload(service, "bs-estranea", "foto.png", PNG, service.shopkeeper("bs-estranea"))).json()["id"]
    keeper = service.shopkeeper("bs-domanda")

    cites_other = {
        **RECOGNITION,
        "documents": [
            {"title": "Licenza", "kind": "licenza", "document_id": own},
            {"title": "Foto", "kind": "foto", "document_id": other},
        ],
    }
    refused = await client.post("/shops/bs-domanda/recognition", json=cites_other, headers=keeper)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["body.documents.1.document_id"]
    unknown = {**RECOGNITION, "documents": [{"title": "Atto", "kind": "atto", "document_id": "doc-ffff"}]}
    assert (await client.post("/shops/bs-domanda/recognition", json=unknown, headers=keeper)).status_code == 422
    nothing = {**RECOGNITION, "documents": [{"title": "Atto", "kind": "atto"}]}
    assert (await client.post("/shops/bs-domanda/recognition", json=nothing, headers=keeper)).status_code == 422
    assert (await client.get("/shops/bs-domanda/recognition", headers=keeper)).status_code == 404, "nothing applied"
    assert (await client.get("/shops/bs-domanda")).json()["version"] == 1

    cites_own = {
        **RECOGNITION,
        "documents": [
            {"title": "Licenza", "kind": "licenza", "document_id": own},
            {"title": "Registro", "kind": "registro", "reference": "CCIAA MI 1950/123"},
        ],
    }
    applied = await client.post("/shops/bs-domanda/recognition", json=cites_own, headers=keeper)
    assert applied.status_code == 201, applied.text
    documents = (await client.get("/shops/bs-domanda/recognition", headers=service.office)).json()["application"][
        "documents"
    ]
    assert [(d["document_id"], d["reference"]) for d in documents] == [(own, ""), (None, "CCIAA MI 1950/123")]
