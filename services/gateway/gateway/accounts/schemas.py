"""Request and response bodies of the account routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.accounts.domain import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from shared.roles import Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=USERNAME_PATTERN)]
Scope = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str | None = Field(
        default=None,
        description="Only for clients that are not browsers (no Sec-Fetch-Site header); browsers get it "
        "as an HttpOnly cookie scoped to /api/v1/auth",
    )
    refresh_expires_in: int | None = Field(default=None, description="Seconds until the refresh token expires")


class Me(BaseModel):
    username: str
    role: Role
    scope: str | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="3-64 characters: lower-case letters, digits, '.', '_' or '-'")
    password: NewPassword = Field(description="At least 12 characters, not the username, not a common password")
    role: Role
    scope: Scope | None = Field(
        default=None, description="The market id (market_operator) or shop id (shopkeeper); none for the office"
    )


class UserUpdate(BaseModel):
    """A role or scope change; every token and session of the account ends."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    scope: Scope | None = Field(default=None, description="Left out: kept if the role stays, cleared if it changes")


class UserPublic(BaseModel):
    username: str
    role: Role
    scope: str | None
    created_at: datetime
    disabled: bool = False
    last_login_at: datetime | None = None


UserOut = UserPublic


class UserPage(BaseModel):
    items: list[UserPublic]
    total: int
    limit: int
    offset: int


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: NewPassword


class Activation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=200)
    password: NewPassword


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(default=None, max_length=200, description="Only without the cookie")


class PasswordResetOut(BaseModel):
    username: str
    token: str = Field(description="One-time; give it to the account's owner (POST /auth/activate)")
    activation_url: str
    expires_at: datetime


class UnlockOut(BaseModel):
    username: str
    cleared: int = Field(description="How many addresses were waiting between login attempts")


class AuditPublic(BaseModel):
    id: str
    at: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    address: str | None


class AuditPage(BaseModel):
    items: list[AuditPublic]
    total: int
    limit: int
    offset: int
