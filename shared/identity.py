"""Who is calling: JWTs issued by the gateway, verified again by every service.

The gateway authenticates users and forwards their bearer token; each service decodes it with the
shared key and enforces the role and scope its own routes need, so a write is checked where the
resource lives even if a request reaches a service without passing the gateway.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel

from shared.errors import Forbidden, Unauthorized
from shared.events import utcnow
from shared.settings import ServiceSettings

ALGORITHM = "HS256"


class Role(StrEnum):
    OFFICE = "commerce_office"
    MARKET_OPERATOR = "market_operator"
    SHOPKEEPER = "shopkeeper"


class Principal(BaseModel):
    username: str
    role: Role
    scope: str | None = None

    @property
    def is_office(self) -> bool:
        return self.role is Role.OFFICE

    def require_office(self) -> None:
        if not self.is_office:
            raise Forbidden("only the commerce office may do this")

    def require_scope(self, role: Role, resource_id: str) -> None:
        """The office may act on anything; others only on the one resource of their scope."""
        if self.is_office:
            return
        if self.role is not role or self.scope != resource_id:
            raise Forbidden(f"your account is not allowed to change {resource_id!r}")


def issue_token(settings: ServiceSettings, principal: Principal, ttl: timedelta) -> str:
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": principal.username,
        "role": principal.role.value,
        "scope": principal.scope,
        "iss": settings.jwt_issuer,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def decode_token(settings: ServiceSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        return Principal(username=claims["sub"], role=Role(claims["role"]), scope=claims.get("scope"))
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired; log in again") from exc
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise Unauthorized("the token is not valid") from exc


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


async def current_principal(request: Request) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("log in first: this needs a bearer token")
    return decode_token(_settings(request), token)


async def optional_principal(request: Request) -> Principal | None:
    token = bearer_token(request)
    return decode_token(_settings(request), token) if token else None


async def office_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    principal.require_office()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OfficePrincipal = Annotated[Principal, Depends(office_principal)]
