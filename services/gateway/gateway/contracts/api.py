"""The machine-readable contracts, served by the gateway for the whole platform."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.wiring import gateway_of

router = APIRouter(tags=["contracts"])
documentation = APIRouter(include_in_schema=False)


@documentation.get("/openapi.json")
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(await (await gateway_of(request)).openapi.document())


@router.get(
    "/asyncapi.json",
    summary="The events of the platform (AsyncAPI 3.0)",
    description="Every Kafka topic and every event type the services publish, with the CloudEvents envelope and "
    "the JSON Schema of each payload; services that did not answer are named in `x-unavailable`.",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "An AsyncAPI 3.0.0 document",
            "content": {"application/json": {"schema": {"type": "object", "required": ["asyncapi", "info"]}}},
        }
    },
)
async def asyncapi_document(request: Request) -> JSONResponse:
    return JSONResponse(await (await gateway_of(request)).asyncapi.document())
