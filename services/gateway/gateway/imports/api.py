"""HTTP routes of open-data imports: upload a file, follow its job (commerce office)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from starlette.datastructures import UploadFile

from gateway.api import Office, actor_of, rate_limit
from gateway.contracts.openapi import API_PREFIX
from gateway.imports.schemas import IMPORT_ID_PATTERN, ImportJobPublic
from gateway.imports.service import ImportService, Upload
from shared.app import provide
from shared.errors import InvalidInput
from shared.i18n import Said
from shared.identity import bearer_token
from shared.web.pagination import Limit, Offset, Page, page_of

router = APIRouter(prefix=API_PREFIX, tags=["imports"], dependencies=[Depends(rate_limit)])
Imports = Annotated[ImportService, Depends(provide(ImportService))]
ImportId = Annotated[str, Path(pattern=IMPORT_ID_PATTERN, description="The import's id")]


# the multipart body as OpenAPI describes it: the route reads it itself, after the caller is known
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "An official open-data file (CSV or GeoJSON), at most 20 MB",
                    }
                },
            }
        }
    },
}
MISSING_FILE = Said(
    "manca il file da importare (campo multipart 'file')", "the file to import is missing (multipart field 'file')"
)


@router.post(
    "/imports",
    status_code=202,
    summary="Upload an open-data file and import it in the background (commerce office)",
    responses={
        202: {"description": "The job, queued; follow it at the Location"},
        413: {"description": "The file is larger than the limit (20 MB)"},
        422: {"description": "No file, an empty one, or one no importer recognises (the detail lists the kinds)"},
    },
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload(request: Request, response: Response, caller: Office, imports: Imports) -> ImportJobPublic:
    # the body is read only once the caller is known to be the office: nobody else makes the gateway
    # receive and spool an upload
    async with request.form(max_files=1, max_fields=16) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput("body.file", MISSING_FILE)
        data = await file.read()
        filename = file.filename or "upload"
    job = await imports.submit(
        Upload(
            filename=filename,
            data=data,
            token=bearer_token(request) or "",
            actor=actor_of(caller, request),
            language=request.headers.get("accept-language"),
        )
    )
    response.headers["Location"] = f"{API_PREFIX}/imports/{job.id}"
    return ImportJobPublic.of(job)


@router.get("/imports", summary="Imports, newest first (commerce office)")
async def list_imports(_: Office, imports: Imports, limit: Limit = 50, offset: Offset = 0) -> Page[ImportJobPublic]:
    return page_of(await imports.page(limit, offset), ImportJobPublic.of, limit, offset)


@router.get(
    "/imports/{import_id}",
    summary="An import's progress, outcomes and rejected rows (commerce office)",
    responses={404: {"description": "No such import"}},
)
async def get_import(import_id: ImportId, _: Office, imports: Imports) -> ImportJobPublic:
    return ImportJobPublic.of(await imports.job(import_id))
