"""Request and response bodies of the gateway's own routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from gateway.passwords import MAX_LENGTH, MIN_LENGTH
from shared.identity import Role

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
]
Scope = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires")


class Me(BaseModel):
    username: str
    role: Role
    scope: str | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="3-64 characters: lower-case letters, digits, '.', '_' or '-'")
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    role: Role
    scope: Scope | None = Field(
        default=None,
        validate_default=True,
        description="The market id (market_operator) or shop id (shopkeeper); none for the office",
    )

    @field_validator("scope")
    @classmethod
    def _scope_matches_role(cls, scope: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if role is Role.OFFICE and scope is not None:
            raise ValueError("the commerce office has no scope; leave it out")
        if role in (Role.MARKET_OPERATOR, Role.SHOPKEEPER) and not scope:
            raise ValueError(f"a {role.value} needs a scope: the id of their market or shop")
        return scope


class UserOut(BaseModel):
    username: str
    role: Role
    scope: str | None
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int
