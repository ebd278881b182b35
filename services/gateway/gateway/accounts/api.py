"""HTTP routes of accounts: login, sessions, own password, account management, audit, public keys."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from gateway.accounts.domain import Account, AuditEntry
from gateway.accounts.schemas import (
    USERNAME_PATTERN,
    Activation,
    AuditPage,
    AuditPublic,
    Me,
    PasswordChange,
    PasswordResetOut,
    RefreshIn,
    TokenOut,
    UnlockOut,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
)
from gateway.accounts.service import AccountService, Actor, Session
from gateway.api import Office, SignedIn, _forwardable, actor_of, rate_limit
from gateway.contracts.openapi import API_PREFIX
from shared.app import provide
from shared.errors import InvalidInput, Unauthorized
from shared.i18n import Said
from shared.web.idempotency import IDEMPOTENT
from shared.web.middleware import client_ip
from shared.web.pagination import Limit, Offset
from shared.web.params import Moment

FORM = "application/x-www-form-urlencoded"
REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = f"{API_PREFIX}/auth"
UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, description="The account's username")]

# logging in, sessions and one's own account; `users`: the office's management of every account
router = APIRouter(prefix=API_PREFIX, tags=["auth"], dependencies=[Depends(rate_limit)])
users = APIRouter(prefix=API_PREFIX, tags=["accounts"], dependencies=[Depends(rate_limit)])
well_known = APIRouter(prefix="/.well-known", tags=["auth"], dependencies=[Depends(rate_limit)])


Accounts = Annotated[AccountService, Depends(provide(AccountService))]


def _public(account: Account) -> UserPublic:
    return UserPublic(**account.public())


def _is_browser(request: Request) -> bool:
    """Browsers always send Sec-Fetch-Site (page scripts cannot remove it): they get the refresh
    token only as an HttpOnly cookie, never in a body a script could read."""
    return "sec-fetch-site" in request.headers


def _session_answer(session: Session, request: Request, response: Response) -> TokenOut:
    response.set_cookie(
        REFRESH_COOKIE,
        session.refresh_token,
        max_age=session.refresh_expires_in,
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    in_body = not _is_browser(request)
    return TokenOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token if in_body else None,
        refresh_expires_in=session.refresh_expires_in if in_body else None,
    )


@router.post(
    "/auth/token",
    summary="Log in (OAuth2 password flow)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["password"]},
                            "username": {"type": "string"},
                            "password": {"type": "string", "format": "password"},
                        },
                    }
                }
            },
        }
    },
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Too many attempts"}},
)
async def log_in(request: Request, response: Response, accounts: Accounts) -> TokenOut:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise InvalidInput(
            "body",
            Said(
                f"invia le credenziali come {FORM} (campi username e password)",
                f"send the credentials as {FORM} (fields username and password)",
            ),
        )
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    values = {name: form.get(name, [""])[0] for name in ("grant_type", "username", "password")}
    for name in ("username", "password"):
        if not values[name]:
            raise InvalidInput(f"body.{name}", Said("campo obbligatorio", "field required"))
    if values["grant_type"] not in ("", "password"):
        raise InvalidInput(
            "body.grant_type", Said("si accetta solo il grant password", "only the password grant is supported")
        )
    session = await accounts.login(values["username"], values["password"], client_ip(request.scope))
    return _session_answer(session, request, response)


@router.post(
    "/auth/refresh",
    summary="A new access token (and refresh token) for a refresh token",
    responses={401: {"description": "The session has ended"}},
)
async def refresh(request: Request, response: Response, accounts: Accounts, body: RefreshIn | None = None) -> TokenOut:
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise Unauthorized(Said("manca il token di rinnovo: accedi prima", "no refresh token: log in first"))
    return _session_answer(await accounts.refresh(token), request, response)


@router.post(
    "/auth/logout",
    summary="End the session: its refresh tokens and the access token sent with it",
    status_code=204,
    response_class=Response,
)
async def log_out(request: Request, accounts: Accounts, body: RefreshIn | None = None) -> Response:
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    claims = None
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        try:
            claims = accounts.verifier.verify_signature(bearer[7:].strip())
        except Unauthorized:
            claims = None
    await accounts.logout(token, claims)
    answer = Response(status_code=204)
    answer.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")
    return answer


@router.post(
    "/auth/activate",
    summary="Set the password with a one-time token (password reset or activation link)",
    responses={
        400: {"description": "The token is unknown, already used or expired (the detail says which)"},
        422: {"description": "The password breaks the policy; the token stays usable"},
    },
)
async def activate(body: Activation, request: Request, accounts: Accounts) -> UserPublic:
    return _public(await accounts.activate(body.token, body.password, client_ip(request.scope)))


@router.get("/me", summary="Who the token belongs to")
async def me(caller: SignedIn) -> Me:
    return Me(username=caller.username, role=caller.role, scope=caller.scope)


@router.put(
    "/me/password",
    summary="Change your own password (every other session ends; a new token pair is returned)",
)
async def change_password(
    body: PasswordChange, request: Request, response: Response, caller: SignedIn, accounts: Accounts
) -> TokenOut:
    session = await accounts.change_password(caller, body.current_password, body.new_password, client_ip(request.scope))
    return _session_answer(session, request, response)


@users.post(
    "/users",
    dependencies=[IDEMPOTENT],
    summary="Create an account (commerce office)",
    status_code=201,
    responses={409: {"description": "Username taken"}},
)
async def create_user(body: UserCreate, request: Request, caller: Office, accounts: Accounts) -> UserPublic:
    account = await accounts.create(
        actor_of(caller, request), body.username, body.password, body.role, body.scope, _forwardable(request)
    )
    return _public(account)


@users.get(
    "/users",
    summary="List accounts with their state and last login (commerce office)",
)
async def list_users(
    _: Office,
    accounts: Accounts,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UserPage:
    items, total = await accounts.page(limit, offset)
    return UserPage(items=[_public(a) for a in items], total=total, limit=limit, offset=offset)


@users.patch(
    "/users/{username}",
    summary="Change an account's role or scope (commerce office); its tokens and sessions end",
)
async def update_user(
    username: UsernamePath, body: UserUpdate, request: Request, caller: Office, accounts: Accounts
) -> UserPublic:
    fields = body.model_dump(include=body.model_fields_set)
    account = await accounts.update(actor_of(caller, request), username, fields, _forwardable(request))
    return _public(account)


# The office's actions on one account: POST /users/{username}/<action>, no body, answered by `answer`
UserAction = Callable[[AccountService, Actor, str, Response], Awaitable[BaseModel]]


def _account_change(change: Callable[[AccountService, Actor, str], Awaitable[Account]]) -> UserAction:
    async def answer(accounts: AccountService, actor: Actor, username: str, _: Response) -> UserPublic:
        return _public(await change(accounts, actor, username))

    return answer


async def _unlock(accounts: AccountService, actor: Actor, username: str, _: Response) -> UnlockOut:
    return UnlockOut(username=username.lower(), cleared=await accounts.unlock(actor, username))


async def _reset_password(
    accounts: AccountService, actor: Actor, username: str, response: Response
) -> PasswordResetOut:
    token, expires_at = await accounts.reset_password(actor, username)
    response.headers["Cache-Control"] = "no-store"
    return PasswordResetOut(
        username=username.lower(), token=token, activation_url=accounts.activation_url(token), expires_at=expires_at
    )


USER_ACTIONS: tuple[tuple[str, str, str, type[BaseModel], UserAction], ...] = (
    (
        "disable",
        "disable_user",
        "Disable an account (commerce office): its tokens and sessions end",
        UserPublic,
        _account_change(AccountService.disable),
    ),
    (
        "enable",
        "enable_user",
        "Enable an account again (commerce office); also lifts login delays",
        UserPublic,
        _account_change(AccountService.enable),
    ),
    (
        "unlock",
        "unlock_user",
        "Lift the login delays of an account from every address (commerce office)",
        UnlockOut,
        _unlock,
    ),
    (
        "password-reset",
        "reset_password",
        "Reset a password (commerce office): sessions end, the old password stops working, a one-time token sets a new one",
        PasswordResetOut,
        _reset_password,
    ),
)


def _add_user_action(action: str, name: str, summary: str, model: type[BaseModel], answer: UserAction) -> None:
    async def route(
        username: UsernamePath, request: Request, response: Response, caller: Office, accounts: Accounts
    ) -> BaseModel:
        return await answer(accounts, actor_of(caller, request), username, response)

    users.add_api_route(
        f"/users/{{username}}/{action}",
        route,
        methods=["POST"],
        name=name,
        summary=summary,
        response_model=model,
    )


for user_action in USER_ACTIONS:
    _add_user_action(*user_action)


AuditFilter = tuple[str | None, datetime | None, datetime | None]


async def audit_filter(
    actor: Annotated[str | None, Query(pattern=USERNAME_PATTERN + "|^system$", description="Who acted")] = None,
    since: Annotated[
        Moment | None, Query(alias="from", description="From this time (inclusive; without offset, UTC)")
    ] = None,
    until: Annotated[
        Moment | None, Query(alias="to", description="Until this time (exclusive; without offset, UTC)")
    ] = None,
) -> AuditFilter:
    since, until = _utc(since), _utc(until)
    if since and until and since >= until:
        raise InvalidInput("query.to", Said("'to' deve venire dopo 'from'", "'to' must come after 'from'"))
    return (actor.lower() if actor else None), since, until


def _utc(moment: datetime | None) -> datetime | None:
    """A time without offset is read as UTC (as every time the API returns)."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _audit_public(entry: AuditEntry) -> AuditPublic:
    return AuditPublic(**asdict(entry))


@users.get(
    "/audit",
    summary="Account actions: who did what, when, before and after (commerce office)",
)
async def audit(
    _: Office,
    accounts: Accounts,
    where: Annotated[AuditFilter, Depends(audit_filter)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    entries, total = await accounts.audit_page(*where, limit, offset)
    return AuditPage(items=[_audit_public(e) for e in entries], total=total, limit=limit, offset=offset)


@users.get(
    "/audit.csv",
    summary="The audit log as CSV (commerce office; same filters)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per action, newest first"}},
)
async def audit_csv(_: Office, accounts: Accounts, where: Annotated[AuditFilter, Depends(audit_filter)]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "target", "before", "after", "address"])
    async for e in accounts.audit_all(*where):
        # usernames are letters, digits and . _ -; actions a word or a route, targets a name or a path;
        # JSON starts with "{": no cell can start as a spreadsheet formula
        writer.writerow(
            [
                e.at.isoformat(),
                e.actor,
                e.action,
                e.target,
                json.dumps(e.before, sort_keys=True) if e.before is not None else "",
                json.dumps(e.after, sort_keys=True) if e.after is not None else "",
                e.address or "",
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@well_known.get("/jwks.json", summary="The public keys that verify access tokens (JWKS)")
async def jwks(accounts: Accounts, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=60"
    return accounts.signer.jwks()


@well_known.get("/revocations.json", summary="Revoked token versions and token ids (opaque), until their tokens expire")
async def revocations(accounts: Accounts, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return {"revoked": await accounts.revoked_ids()}
