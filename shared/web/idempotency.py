"""``Idempotency-Key`` on the POSTs that create something: a retried request gets the first answer.

Follows the IETF httpapi draft "The Idempotency-Key HTTP Header Field". A route takes part by
declaring ``dependencies=[IDEMPOTENT]``, which documents the header and, on a request that sends
it, checks the key against what is stored (:func:`idempotency_key`); the
:class:`IdempotencyMiddleware` every service runs holds the request's writes and commits them with
its answer:

- the key is an RFC 8941 string of 1 to 255 characters (``Idempotency-Key: "8e03978e-…"``), or sent
  bare (visible ASCII); the route checks the field against :data:`KEY_PATTERN` (422 naming it);
- a key is scoped to the caller (the token's subject; on an anonymous request, the key alone), the
  method and the route; the request's fingerprint (path, query, media type and a hash of the body)
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

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError
from starlette.types import Message, Receive, Scope, Send

from shared.errors import AppError, InvalidInput
from shared.i18n import Said
from shared.idempotency import (
    Answer,
    Answered,
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
SLOT = "idempotency"  # the request scope's entry for the KeyedRequest
# the field's value: an RFC 8941 string of 1 to 255 characters (printable ASCII, `"` and `\` escaped
# with `\`), or the key bare (1 to 255 visible ASCII characters, no quote or backslash)
KEY_PATTERN = r'^(?:"(?:[ !#-\[\]-~]|\\["\\]){1,255}"|[!#-\[\]-~]{1,255})$'
_KEY = re.compile(KEY_PATTERN)
_ESCAPED = re.compile(r"\\(.)")
# headers of an answer that are not replayed: set again for every answer, or not to be stored
NOT_STORED = frozenset({b"content-length", b"date", b"server", b"set-cookie", b"x-request-id"})


class InvalidKey(ValueError):
    pass


def parse_key(value: str) -> str:
    """The key an ``Idempotency-Key`` field value carries; :class:`InvalidKey` when it carries none."""
    value = value.strip(" \t")
    if not _KEY.fullmatch(value):
        raise InvalidKey(value)
    return _ESCAPED.sub(r"\1", value[1:-1]) if value.startswith('"') else value


@dataclass(eq=False)
class KeyedRequest:
    """What the middleware and a route's :func:`idempotency_key` share about one keyed POST."""

    held: HeldCommit
    # the body's digest, taken as the app receives it (a form's parser reads it without keeping it)
    body: Any = field(default_factory=hashlib.sha256)
    store: IdempotencyStore | None = None
    key_id: str = ""
    owner: str = ""
    replay: Answer | None = None


class KeyReused(AppError):
    status, kind = 422, "idempotency-key-reused"


class KeyInUse(AppError):
    status, kind = 409, "idempotency-key-in-use"


class Replayed(AppError):
    """The request was answered before: the middleware sends that answer instead of this error's."""


async def idempotency_key(
    request: Request,
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
            pattern=KEY_PATTERN,
            examples=['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
        ),
    ] = None,
) -> None:
    """A route's part: check the key, then run the request (its writes held until its answer is
    stored with them), or answer as an earlier request with the key says."""
    keyed: KeyedRequest | None = request.scope.get(SLOT)
    if key is None or keyed is None:
        return
    try:
        parsed = parse_key(key)
    except InvalidKey as exc:  # the header's own pattern is checked first, by the route
        raise InvalidInput(FIELD, MALFORMED, header=HEADER) from exc
    runtime = request.app.state.runtime
    store = IdempotencyStore(runtime.mongo.db, timedelta(seconds=runtime.settings.idempotency_lease_s))
    key_id = scope_id(await _subject(runtime, request), "POST", request.scope["route"].path, parsed)
    try:
        await request.body()  # read it here if the route has no body parameter that did
    except RuntimeError:
        pass  # read already, as a form, whose parser keeps no copy: the digest has it all
    content_type = request.headers.get("content-type", "")
    print_ = fingerprint(request.url.path, request.scope.get("query_string", b""), content_type, keyed.body.digest())
    owner = uuid.uuid4().hex
    claim = await store.claim(key_id, print_, owner)
    if isinstance(claim, Answered):
        keyed.replay = claim.answer
        raise Replayed("answered before")
    if isinstance(claim, Reused):
        raise KeyReused(REUSED, header=HEADER)
    if isinstance(claim, Running):
        busy = KeyInUse(RUNNING, header=HEADER)
        busy.headers["Retry-After"] = str(max(1, round(claim.retry_after_s)))
        raise busy
    keyed.store, keyed.key_id, keyed.owner = store, key_id, owner
    keyed.held.active = True


IDEMPOTENT: Any = Depends(idempotency_key)
IDEMPOTENCY_ANSWERS: dict[int | str, dict[str, Any]] = {
    409: {"description": f"A request with this {HEADER} is still running; retry after Retry-After"},
    422: {"description": f"Invalid input (a malformed {HEADER} too), or this {HEADER} was used with another request"},
}


def document_idempotent_answers(document: dict[str, Any]) -> None:
    """Add the answers a keyed request may get to every operation of an OpenAPI document that takes
    the header."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            headers = [p for p in operation.get("parameters", []) if p.get("in") == "header"]
            if any(p.get("name") == HEADER for p in headers):
                for status, answer in IDEMPOTENCY_ANSWERS.items():
                    operation.setdefault("responses", {}).setdefault(str(status), answer)


class IdempotencyMiddleware(HttpMiddleware):
    """Holds the writes of a keyed POST until its answer is ready, then commits both or neither
    (the route's :func:`idempotency_key` decides whether the request runs at all)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST" or _header(scope, HEADER.lower().encode()) is None:
            await self.app(scope, receive, send)
            return
        keyed = KeyedRequest(HeldCommit(scope["app"].state.runtime.mongo))
        scope[SLOT] = keyed
        messages: list[Message] = []
        passing = False

        async def pass_or_keep(message: Message) -> None:
            nonlocal passing
            # a route that takes no key, or a refusal before the request ran, goes out as it is
            if message["type"] == "http.response.start" and keyed.store is None and keyed.replay is None:
                passing = True
            if passing:
                await send(message)
            else:
                messages.append(message)

        async def receive_and_digest() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                keyed.body.update(message.get("body", b""))
            return message

        try:
            with holding(keyed.held):
                await self.app(scope, receive_and_digest, pass_or_keep)
        except BaseException:
            await _give_back(keyed)
            raise
        if passing:
            return
        if keyed.replay is not None:
            await _replay(keyed.replay, send)
            return
        await self._finish(scope, receive, send, keyed, messages)

    async def _finish(
        self, scope: Scope, receive: Receive, send: Send, keyed: KeyedRequest, messages: list[Message]
    ) -> None:
        """Commit the request's writes with its answer (a success), or drop both (an error)."""
        assert keyed.store is not None
        start = messages[0]
        answer = Answer(
            start["status"],
            [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start.get("headers", []) if n not in NOT_STORED],
            b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
        )
        if not 200 <= answer.status < 300:
            await _give_back(keyed)
            await _send(messages, send)
            return
        try:
            await keyed.held.commit(partial(_store_answer, keyed.store, keyed.key_id, keyed.owner, answer))
        except (PyMongoError, AppError) as exc:
            log.warning("answer under %s not committed: %s", HEADER, type(exc).__name__)
            await _give_back(keyed)
            retry = {"Retry-After": "1"}
            if isinstance(exc, Superseded):
                await _refuse(scope, receive, send, 409, KeyInUse.kind, RUNNING, retry)
            else:
                await _refuse(scope, receive, send, 503, "unavailable", NOT_COMMITTED, retry)
            return
        await _send(messages, send)


class Superseded(AppError):
    """The run's lease ended and a retry took the key over: this run's writes are dropped."""


MALFORMED = Said(
    f"{HEADER} deve essere una stringa tra virgolette di 1-255 caratteri ASCII stampabili",
    f"{HEADER} must be a quoted string of 1-255 printable ASCII characters",
)
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


async def _give_back(keyed: KeyedRequest) -> None:
    """Drop what the run wrote and free its key; if the database cannot be reached, the key's lease
    frees it later."""
    try:
        await keyed.held.abandon()
        if keyed.store is not None:
            await keyed.store.release(keyed.key_id, keyed.owner)
    except PyMongoError as exc:
        log.warning("could not free an %s: %s", HEADER, type(exc).__name__)


async def _subject(runtime: Any, request: Request) -> str | None:
    """Who calls, from a valid bearer token; None when anonymous (or the token is not valid: the
    route itself refuses it)."""
    from shared.identity import bearer_token  # shared.identity needs shared.app, which needs this module

    token = bearer_token(request)
    if token is None:
        return None
    try:
        return str((await runtime.tokens.verify(token)).subject)
    except AppError:
        return None


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
