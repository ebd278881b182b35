"""HTTP routes of a shop's documents: the shop's shopkeeper and the office only, for reading too."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.responses import StreamingResponse

from shared.app import provide
from shared.identity import CurrentPrincipal, Role
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page
from shared.web.params import Slug
from shops.documents.domain import ACCEPTED, MAX_BYTES
from shops.documents.schemas import DocumentPublic
from shops.documents.service import DocumentsService
from shops.register.schemas import ShopId

router = APIRouter(tags=["documents"])

Documents = Annotated[DocumentsService, Depends(provide(DocumentsService))]
# the largest request the upload route reads: the file plus the multipart envelope around it
UPLOAD_BODY_BYTES = MAX_BYTES + 64 * 1024


@router.post(
    "/shops/{shop_id}/documents",
    dependencies=[IDEMPOTENT],
    status_code=201,
    responses={
        200: {"model": DocumentPublic, "description": "this shop already stored the same file: that document"},
        413: {"description": f"the file is larger than {MAX_BYTES} bytes"},
        415: {"description": f"the content is not one of {', '.join(ACCEPTED)}"},
    },
)
async def upload_document(
    shop_id: ShopId,
    file: Annotated[
        UploadFile, File(description="PDF, JPEG or PNG, at most 10 MiB; the type is read from the content")
    ],
    documents: Documents,
    principal: CurrentPrincipal,
    response: Response,
) -> DocumentPublic:
    """Store a document of the shop (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    size = file.file.seek(0, 2)
    stored = await documents.upload(shop_id, file.filename, file.file, size, principal.username)
    if not stored.created:
        response.status_code = 200
    return DocumentPublic.of(stored.document)


@router.get("/shops/{shop_id}/documents")
async def documents_of(
    shop_id: ShopId, documents: Documents, principal: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
) -> Page[DocumentPublic]:
    """The shop's documents, oldest first (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    found, total = await documents.of_shop(shop_id, limit=limit, offset=offset)
    return Page[DocumentPublic].of([DocumentPublic.of(d) for d in found], total, limit, offset)


@router.get(
    "/shops/{shop_id}/documents/{document_id}",
    response_class=StreamingResponse,
    responses={200: {"content": {t: {} for t in ACCEPTED}, "description": "the file as it was uploaded"}},
)
async def download_document(
    shop_id: ShopId, document_id: Slug, documents: Documents, principal: CurrentPrincipal
) -> StreamingResponse:
    """The file itself, streamed with its content type (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    document = await documents.get(shop_id, document_id)
    headers = {
        "Content-Length": str(document.size),
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(document.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(documents.content(document), media_type=document.content_type, headers=headers)
