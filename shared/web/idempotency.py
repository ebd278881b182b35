"""``Idempotency-Key`` on the POSTs that create something: a retried request gets the first answer.

Follows the IETF httpapi draft "The Idempotency-Key HTTP Header Field". A route takes part by
declaring ``dependencies=[IDEMPOTENT]`` (which also documents the header); the
:class:`IdempotencyMiddleware` every service runs does the rest:

- the key is an RFC 8941 string (``Idempotency-Key: "8e03978e-…"``); a bare value of visible ASCII
  characters is taken as the key too. Empty or longer than 255 characters: 400 naming the header;
- a key is scoped to the caller (the token's subject; on an anonymous request, the key alone), the
  method and the route; the request's fingerprint (path, query, content type and a hash of the body)
  is stored with it;
- first request: run as usual. A success answer (2xx) is stored **in the same transaction** as what
  the request wrote (``shared.mongo.HeldCommit``): the creation and its stored answer commit together
  or not at all. An error answer stores nothing and frees the key;
- same key, same request, first one answered: its answer again, byte for byte, with
  ``Idempotent-Replayed: true``; first one still running: 409 with ``Retry-After``; a first attempt
  that died without answering holds the key only until its lease ends (``IDEMPOTENCY_LEASE_S``);
- same key, another request: 422;
- no header: nothing changes. Stored answers are kept 24 hours.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from functools import partial
from typing import Annotated, Any

import http_sf
from fastapi import Depends, FastAPI, Header
from fastapi.routing import APIRoute
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import AppError
from shared.i18n import Said
from shared.idempotency import (
    Answer,
    Answered,
    Claimed,
    IdempotencyStore,
    Reused,
    Running,
    fingerprint,
    scope_id,
)
from shared.mongo import HeldCommit, holding
from shared.web.middleware import HttpMiddleware, _header
from shared.web.problems import instance_of, language_of, problem

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
FIELD = f"header.{HEADER}"
MAX_KEY_LENGTH = 255
# a key sent bare rather than as a structured-field string: visible ASCII, no quote or backslash
BARE_KEY = re.compile(r"[!#-\[\]-~]+")
# headers of an answer that are not replayed: set again for every answer, or not to be stored
NOT_STORED = frozenset({b"content-length", b"date", b"server", b"set-cookie", b"x-request-id"})


class InvalidKey(ValueError):
    def __init__(self, reason: Said) -> None:
        super().__init__(reason.en)
        self.reason = reason


def parse_key(value: str) -> str:
    """The key an ``Idempotency-Key`` field value carries; :class:`InvalidKey` when it carries none."""
    value = value.strip(" \t")
    if value.startswith('"'):
        try:
            parsed = http_sf.parse(value.encode("latin-1"), tltype="item")
        except (http_sf.StructuredFieldError, UnicodeEncodeError) as exc:
            raise InvalidKey(
                Said("non è una stringa valida (RFC 8941)", "is not a valid structured-field string (RFC 8941)")
            ) from exc
        item = parsed[0] if isinstance(parsed, tuple) else parsed
        if not isinstance(item, str):
            raise InvalidKey(Said("deve essere una stringa", "must be a string"))
        key = str(item)
    elif not value or BARE_KEY.fullmatch(value):
        key = value
    else:
        raise InvalidKey(
            Said(
                'va scritta tra virgolette ("…") se contiene spazi o altri caratteri',
                'must be quoted ("…") when it holds spaces or other characters',
            )
        )
    if not key:
        raise InvalidKey(Said("è vuota", "is empty"))
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(Said(f"supera i {MAX_KEY_LENGTH} caratteri", f"is longer than {MAX_KEY_LENGTH} characters"))
    return key


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description=(
                "A key of your choosing (a random UUID), the same on every retry of this request: a retry "
                'gets the first answer instead of creating again. An RFC 8941 string ("…", up to 255 '
                "characters); answers are kept 24 hours. Reused with another request: 422; sent while "
                "the first is still running: 409."
            ),
            examples=['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
        ),
    ] = None,
) -> None:
    """Declares the header on a route (its OpenAPI parameter); the middleware does the work."""


IDEMPOTENT: Any = Depends(idempotency_key)
IDEMPOTENCY_ANSWERS: dict[int | str, dict[str, Any]] = {
    409: {"description": f"A request with this {HEADER} is still running; retry after Retry-After"},
    422: {"description": f"Invalid input, or this {HEADER} was used with another request"},
}


def is_idempotent(route: object) -> bool:
    return isinstance(route, APIRoute) and any(d.call is idempotency_key for d in route.dependant.dependencies)


def document_idempotent_routes(app: FastAPI) -> None:
    """Add the answers a keyed request may get to the OpenAPI of every route that takes a key."""
    for route in app.router.routes:
        if is_idempotent(route):
            assert isinstance(route, APIRoute)
            for status, answer in IDEMPOTENCY_ANSWERS.items():
                route.responses.setdefault(status, answer)


class IdempotencyMiddleware(HttpMiddleware):
    """Runs the POSTs of idempotent routes sent with a key once (see the module's description)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._routes: dict[int, bool] = {}

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent_key = _header(scope, HEADER.lower().encode()) if scope["method"] == "POST" else None
        route = self._route(scope) if sent_key is not None else None
        if sent_key is None or route is None:
            await self.app(scope, receive, send)
            return
        try:
            key = parse_key(sent_key)
        except InvalidKey as exc:
            detail = Said(f"{HEADER} {exc.reason.it}", f"{HEADER} {exc.reason.en}")
            errors = [{"field": FIELD, "message": detail.in_(language_of(scope))}]
            await _refuse(scope, receive, send, 400, "invalid-idempotency-key", detail, errors=errors)
            return
        runtime = scope["app"].state.runtime
        try:
            body, receive = await _read_body(receive)
        except _Gone:
            return
        key_id = scope_id(await _subject(runtime, scope), "POST", route, key)
        print_ = fingerprint(scope["path"], scope.get("query_string", b""), _header(scope, b"content-type") or "", body)
        store = IdempotencyStore(runtime.mongo.db, timedelta(seconds=runtime.settings.idempotency_lease_s))
        owner = uuid.uuid4().hex
        claim = await store.claim(key_id, print_, owner)
        if isinstance(claim, Answered):
            await _replay(claim.answer, send)
        elif isinstance(claim, Reused):
            await _refuse(scope, receive, send, 422, "idempotency-key-reused", REUSED)
        elif isinstance(claim, Running):
            retry = str(max(1, round(claim.retry_after_s)))
            await _refuse(scope, receive, send, 409, "idempotency-key-in-use", RUNNING, {"Retry-After": retry})
        else:
            assert isinstance(claim, Claimed)
            await self._run(scope, receive, send, HeldCommit(runtime.mongo), store, key_id, owner)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        held: HeldCommit,
        store: IdempotencyStore,
        key_id: str,
        owner: str,
    ) -> None:
        """Run the request with its writes held, then commit them with its answer, or drop both."""
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        try:
            with holding(held):
                await self.app(scope, receive, keep)
        except BaseException:
            await _give_back(held, store, key_id, owner)
            raise
        start = messages[0]
        answer = Answer(
            start["status"],
            [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start.get("headers", []) if n not in NOT_STORED],
            b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
        )
        if not 200 <= answer.status < 300:
            await _give_back(held, store, key_id, owner)
            await _send(messages, send)
            return
        try:
            await held.commit(partial(_store_answer, store, key_id, owner, answer))
        except (PyMongoError, AppError) as exc:
            log.warning("answer under %s not committed: %s", HEADER, type(exc).__name__)
            await _give_back(held, store, key_id, owner)
            retry = {"Retry-After": "1"}
            if isinstance(exc, Superseded):
                await _refuse(scope, receive, send, 409, "idempotency-key-in-use", RUNNING, retry)
            else:
                await _refuse(scope, receive, send, 503, "unavailable", NOT_COMMITTED, retry)
            return
        await _send(messages, send)

    def _route(self, scope: Scope) -> str | None:
        """The template of the idempotent route ``scope`` goes to; None for any other route."""
        for route in scope["app"].router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                if id(route) not in self._routes:
                    self._routes[id(route)] = is_idempotent(route)
                return str(route.path) if self._routes[id(route)] else None
        return None


class Superseded(AppError):
    """The run's lease ended and a retry took the key over: this run's writes are dropped."""


REUSED = Said(
    f"questa {HEADER} è già stata usata per un'altra richiesta; usa una chiave nuova per ogni richiesta",
    f"this {HEADER} was already used with another request; use a new key for every request",
)
RUNNING = Said(
    f"una richiesta con questa {HEADER} è ancora in corso; riprova tra poco",
    f"a request with this {HEADER} is still running; retry shortly",
)
NOT_COMMITTED = Said(
    f"la richiesta non è stata registrata: il database non ha risposto; riprova con la stessa {HEADER}",
    f"the request was not recorded: the database did not answer; retry with the same {HEADER}",
)


async def _store_answer(
    store: IdempotencyStore, key_id: str, owner: str, answer: Answer, session: AsyncClientSession
) -> None:
    if not await store.answer(key_id, owner, answer, session):
        raise Superseded(RUNNING)


async def _give_back(held: HeldCommit, store: IdempotencyStore, key_id: str, owner: str) -> None:
    """Drop what the run wrote and free its key; if the database cannot be reached, the key's lease
    frees it later."""
    try:
        await held.abandon()
        await store.release(key_id, owner)
    except PyMongoError as exc:
        log.warning("could not free an %s: %s", HEADER, type(exc).__name__)


async def _subject(runtime: Any, scope: Scope) -> str | None:
    """Who calls, from a valid bearer token; None when anonymous (or the token is not valid: the
    route itself refuses it)."""
    authorization = _header(scope, b"authorization") or ""
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return None
    try:
        return str((await runtime.tokens.verify(token.strip())).subject)
    except AppError:
        return None


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Gone
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, again


class _Gone(Exception):
    """The client went away before it sent the whole request."""


async def _replay(answer: Answer, send: Send) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in answer.headers]
    headers += [(b"content-length", str(len(answer.body)).encode()), (REPLAYED.lower().encode(), b"true")]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _send(messages: list[Message], send: Send) -> None:
    for message in messages:
        await send(message)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    kind: str,
    detail: Said,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> None:
    lang = language_of(scope)
    answer = problem(status, detail, instance_of(scope), kind, headers=headers, lang=lang, header=HEADER, **extra)
    await answer(scope, receive, send)
