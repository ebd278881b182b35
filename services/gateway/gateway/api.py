"""The public API under ``/api/v1``: the gateway's own routes, then everything it relays."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.access import WRITE_METHODS
from gateway.accounts.service import Actor
from gateway.contracts.openapi import API_PREFIX, BEARER
from gateway.imports.service import IMPORTING
from gateway.live.hub import StreamFull
from gateway.live.stream import LiveStreamResponse
from gateway.proxy import UpstreamUnavailable
from gateway.upstreams import owner_of
from gateway.wiring import Gateway, gateway_of
from shared.errors import AppError, NotFound, Unauthorized, Unavailable
from shared.i18n import Said
from shared.identity import LOG_IN_FIRST, Principal, Role, bearer_token
from shared.web.middleware import client_ip

# dependencies are coroutines: a plain function would be run in a worker thread on every request
GatewayDep = Annotated[Gateway, Depends(gateway_of)]
# Only declares the bearer token in OpenAPI, on every route that needs a signed-in caller (through
# `signed_in`); `authenticate` reads and verifies the token itself.
BEARER_SCHEME = HTTPBearer(scheme_name=BEARER, auto_error=False)
RELAYED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
TOO_MANY = {
    "address": Said("troppe richieste da questo indirizzo; rallenta", "too many requests from this address; slow down"),
    "token": Said("troppe richieste con questo token; rallenta", "too many requests from this token; slow down"),
}


async def rate_limit(request: Request, gateway: GatewayDep) -> None:
    """One token per request from the client's address and, when it sends one, from its bearer token."""
    if not gateway.settings.rate_limit_enabled:
        return
    refused = gateway.metrics.rate_limited
    gateway.per_address.admit(client_ip(request.scope), TOO_MANY["address"], refused.labels("address").inc)
    if token := bearer_token(request):
        key = hashlib.sha256(token.encode()).hexdigest()
        gateway.per_token.admit(key, TOO_MANY["token"], refused.labels("token").inc)


async def authenticate(request: Request, gateway: GatewayDep) -> Principal | None:
    """The caller from the bearer token; a bad or revoked token is refused here and never relayed."""
    token = bearer_token(request)
    principal = await gateway.accounts.authenticate(token) if token else None
    request.state.principal = principal
    return principal


Caller = Annotated[Principal | None, Depends(authenticate)]


async def signed_in(
    caller: Caller, _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)]
) -> Principal:
    if caller is None:
        raise Unauthorized(LOG_IN_FIRST)
    return caller


async def office(caller: Annotated[Principal, Depends(signed_in)]) -> Principal:
    caller.require_office()
    return caller


SignedIn = Annotated[Principal, Depends(signed_in)]
Office = Annotated[Principal, Depends(office)]

router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(rate_limit), Depends(authenticate)])
relay = APIRouter(dependencies=[Depends(rate_limit), Depends(authenticate)])


def _forwardable(request: Request) -> list[tuple[str, str]]:
    """Headers the gateway passes on when it calls a service on the caller's behalf."""
    return [(n, request.headers[n]) for n in ("authorization", "accept-language") if n in request.headers]


@router.get("/overview", tags=["city"], summary="The city at a glance: markets, districts, open alerts")
async def overview(request: Request, caller: Caller, gateway: GatewayDep) -> dict[str, Any]:
    if caller is None:
        return await gateway.overview.anonymous()
    return await gateway.overview.build(_forwardable(request))


@router.get(
    "/stream",
    tags=["city"],
    summary="Live events (Server-Sent Events, commerce office)",
    response_class=LiveStreamResponse,
    status_code=200,
    responses={200: {"content": {"text/event-stream": {}}, "description": "id, event type and CloudEvent JSON"}},
)
async def stream(request: Request, _: Office, gateway: GatewayDep) -> LiveStreamResponse:
    try:
        subscription = gateway.hub.subscribe(request.headers.get("last-event-id"))
    except StreamFull as exc:
        raise Unavailable(str(exc)) from exc
    return LiveStreamResponse(
        gateway.hub,
        subscription,
        heartbeat_s=gateway.settings.sse_heartbeat_s,
        send_timeout_s=gateway.settings.sse_send_timeout_s,
        lifetime_s=max(
            0.0, gateway.accounts.verifier.verify_signature(bearer_token(request) or "").expires_at - time.time()
        ),
    )


def actor_of(caller: Principal, request: Request) -> Actor:
    """Who acts and from which address, for the audit log."""
    return Actor(caller.username, client_ip(request.scope))


@dataclass(frozen=True)
class RouteLabel:
    """Stands in for the matched route so request metrics carry the public template, not the path."""

    path: str


def _service_path(request: Request) -> str:
    """The service path exactly as the client sent it (still percent-encoded), without the prefix."""
    raw: bytes = request.scope.get("raw_path") or b""
    raw = raw.split(b"?", 1)[0]
    if raw.startswith(API_PREFIX.encode() + b"/"):
        return raw[len(API_PREFIX) :].decode("latin-1")
    return quote(request.scope["path"][len(API_PREFIX) :])


@relay.api_route(API_PREFIX + "/{path:path}", methods=RELAYED_METHODS, include_in_schema=False)
async def relay_to_service(request: Request, caller: Caller, gateway: GatewayDep) -> Response:
    # the decoded path, read once: the path guard has refused every path whose raw and decoded forms
    # could split into different segments, and the proxy forwards only a URL that decodes to this
    public_path: str = request.scope["path"]
    service_path = public_path[len(API_PREFIX) :]
    upstream = owner_of(service_path)
    if upstream is None:
        raise NotFound(Said(f"l'API non ha risorse in {public_path}", f"no API resource at {public_path}"))
    found = gateway.templates.find(public_path)
    if found:
        request.scope["route"] = RouteLabel(found[0].template)
    gateway.policy.check(request.method, public_path, caller)
    await _check_named_trader(gateway, request, caller, public_path)
    audited = request.method in WRITE_METHODS and caller is not None and caller.is_office and IMPORTING.get() is None
    acted_on = gateway.policy.acted_on(request.method, public_path) if audited else None
    before = await _as_it_stood(gateway, request, upstream, acted_on) if acted_on else None
    answer = await gateway.proxy.forward(request, upstream, _service_path(request), authorised=service_path)
    # a service's replay of an answer to a retried Idempotency-Key was audited the first time
    replayed = answer.headers.get("idempotent-replayed") == "true"
    if audited and caller is not None and answer.status_code < 300 and not replayed:
        template = found[0].template[len(API_PREFIX) :] if found else service_path
        actor = actor_of(caller, request)
        sent = await _sent(request)
        if before is not None and request.method in ("PUT", "PATCH"):
            before = {name: before[name] for name in sent if name in before} or None
        await gateway.accounts.audit_relayed(actor, request.method, template, service_path, sent, before=before)
    return answer


async def _check_named_trader(gateway: Gateway, request: Request, caller: Principal | None, public_path: str) -> None:
    """A write that names a trader's account (``WriteRule.names_trader``) by someone other than a
    trader is relayed only when the account is a trader's: the accounts are the gateway's to know."""
    field = gateway.policy.trader_field(request.method, public_path)
    if field is None or caller is None or caller.role is Role.TRADER:
        return
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        return  # not JSON: the service refuses it
    named = body.get(field) if isinstance(body, dict) else None
    if isinstance(named, str):
        await gateway.accounts.check_trader(named, f"body.{field}")


async def _as_it_stood(gateway: Gateway, request: Request, upstream: str, public_path: str) -> dict[str, Any] | None:
    """The resource an office write changes, as its service shows it just before the write (read with
    the caller's own token), for the audit log's ``before``: None when it cannot be read; over 8 KB,
    only its top-level plain values."""
    headers = [(n, v) for n, v in request.headers.items() if n.lower() in ("authorization", "accept-language")]
    path = public_path[len(API_PREFIX) :]
    raw = _service_path(request) if public_path == request.scope["path"] else quote(path)
    try:
        answer = await gateway.proxy.call(
            upstream, "GET", raw, headers=[*headers, ("accept", "application/json")], authorised=path
        )
        body = answer.json() if answer.status_code == 200 else None
    except (AppError, UpstreamUnavailable, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    if len(answer.content) > AUDITED_BODY_BYTES:
        return {name: value for name, value in body.items() if isinstance(value, str | int | float | bool | None)}
    return body


AUDITED_BODY_BYTES = 8192


async def _sent(request: Request) -> dict[str, object]:
    """What an office write sent, for the audit log: its JSON object when it is one and not large,
    else only its type and size (a document's bytes are not copied into the log)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" and len(body) <= AUDITED_BODY_BYTES:
        try:
            sent = json.loads(body) if body else {}
        except ValueError:
            sent = None
        if isinstance(sent, dict):
            return sent
    return {"content_type": content_type or None, "bytes": len(body)}
