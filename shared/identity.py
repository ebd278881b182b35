"""Who is calling: access tokens issued by the gateway, verified again by every service.

The gateway authenticates users and forwards their bearer token; each service verifies it with the
gateway's public keys (:mod:`shared.tokens`) and enforces the role and scope its own routes need,
so a write is checked where the resource lives even if a request reaches a service without
passing the gateway. No service holds a key that can sign a token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel

from shared.app import provide
from shared.errors import Forbidden, Unauthorized
from shared.i18n import Said
from shared.roles import Role
from shared.tokens import INVALID_TOKEN, TokenClaims, TokenVerifier

__all__ = [
    "LOG_IN_FIRST",
    "OFFICE_ONLY",
    "Principal",
    "Role",
    "bearer_token",
    "current_principal",
    "optional_principal",
    "principal_of",
]

LOG_IN_FIRST = Said(
    "occorre accedere: questa operazione richiede un token di accesso (bearer)",
    "log in first: this needs a bearer token",
)
OFFICE_ONLY = Said("solo l'ufficio commercio può farlo", "only the commerce office may do this")


class Principal(BaseModel):
    username: str
    role: Role
    scope: str | None = None

    @property
    def is_office(self) -> bool:
        return self.role is Role.OFFICE

    def require_office(self) -> None:
        if not self.is_office:
            raise Forbidden(OFFICE_ONLY)

    def require_scope(self, role: Role, resource_id: str) -> None:
        """The office may act on anything; others only on the one resource of their scope."""
        if self.is_office:
            return
        if self.role is not role or self.scope != resource_id:
            raise Forbidden(
                Said(
                    f"il tuo account non può modificare {resource_id!r}",
                    f"your account is not allowed to change {resource_id!r}",
                )
            )


def principal_of(claims: TokenClaims) -> Principal:
    try:
        return Principal(username=claims.subject, role=Role(claims.role), scope=claims.scope)
    except ValueError as exc:
        raise Unauthorized(INVALID_TOKEN) from exc


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


Verifier = Annotated[TokenVerifier, Depends(provide(TokenVerifier))]


async def current_principal(request: Request, verifier: Verifier) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized(LOG_IN_FIRST)
    return principal_of(await verifier.verify(token))


async def optional_principal(request: Request, verifier: Verifier) -> Principal | None:
    token = bearer_token(request)
    return principal_of(await verifier.verify(token)) if token else None


async def office_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    principal.require_office()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OfficePrincipal = Annotated[Principal, Depends(office_principal)]
