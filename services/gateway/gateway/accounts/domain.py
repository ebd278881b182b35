"""Accounts, sessions and their rules: pure (no web framework, no database).

An account's *token version* is an opaque random id carried in every access and refresh token
it is issued (claim ``tv``). Disabling, resetting the password, changing the password or the
role or scope gives the account a new version and revokes the old one: the gateway refuses it
at once and the services within one poll of the revocation list.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.i18n import Said
from shared.roles import Role

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# the most used passwords of public breach lists that are 12 characters or longer, and the
# platform's own obvious choices; compared case-insensitively
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678910",
        "123123123123",
        "111111111111",
        "000000000000",
        "qwertyuiopas",
        "qwerty123456",
        "qwertyuiop123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "password1234",
        "password12345",
        "password123!",
        "passwordpassword",
        "iloveyou1234",
        "abcdefghijkl",
        "abc123abc123",
        "administrator",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "trustno1trustno1",
        "mercatocomunale",
        "commerciomilano",
        "milanomilano",
        "passwordmilano",
        "office-demo-password",
    }
)


SCOPED_ROLES = frozenset({Role.MARKET_OPERATOR, Role.SHOPKEEPER})


class PolicyViolation(Exception):
    """A value the rules refuse; ``field`` names the input that broke them."""

    def __init__(self, field: str, message: str | Said) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def new_version() -> str:
    return secrets.token_urlsafe(12)


def check_password(password: str, username: str, field: str = "body.password") -> None:
    """Length of at least 12, not the username (or contained in it), not a well-known password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PolicyViolation(
            field,
            Said(
                f"la password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri",
                f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            ),
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PolicyViolation(
            field,
            Said(
                f"la password può avere al massimo {MAX_PASSWORD_LENGTH} caratteri",
                f"the password may have at most {MAX_PASSWORD_LENGTH} characters",
            ),
        )
    lowered = password.lower()
    if username and (lowered == username.lower() or username.lower() in lowered):
        raise PolicyViolation(
            field, Said("la password non deve contenere il nome utente", "the password must not contain the username")
        )
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        raise PolicyViolation(
            field,
            Said("questa password è troppo comune: scegline un'altra", "this password is too common; choose another"),
        )


def check_scope(role: Role, scope: str | None, field: str = "body.scope") -> None:
    if role is Role.OFFICE and scope is not None:
        raise PolicyViolation(
            field,
            Said(
                "l'ufficio commercio non ha un ambito: lascialo vuoto", "the commerce office has no scope; leave it out"
            ),
        )
    if role in SCOPED_ROLES and not scope:
        raise PolicyViolation(
            field,
            Said(
                f"un account {role.value} ha bisogno di un ambito: l'id del suo mercato o negozio",
                f"a {role.value} needs a scope: the id of their market or shop",
            ),
        )


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    scope: str | None
    password_hash: str | None  # None until a one-time link sets it
    created_at: datetime
    token_version: str = field(default_factory=new_version)
    disabled: bool = False
    last_login_at: datetime | None = None

    def can_log_in(self) -> bool:
        return not self.disabled and self.password_hash is not None

    def revoked(self) -> Account:
        """The same account with a new token version: every token it holds stops working."""
        return replace(self, token_version=new_version())

    def public(self) -> dict[str, Any]:
        """What the office may see of an account (never the hash or the version)."""
        return {
            "username": self.username,
            "role": self.role.value,
            "scope": self.scope,
            "created_at": self.created_at,
            "disabled": self.disabled,
            "last_login_at": self.last_login_at,
        }


@dataclass(frozen=True)
class Throttle:
    """Progressive delays between login attempts of one username from one address.

    The first ``free`` failures cost nothing; after that each attempt must wait ``base`` seconds,
    doubling with every further failure up to ``cap``. The key includes the address, so nobody can
    hold back the account's owner from another address: there is no lock on the account itself.
    """

    free: int
    base_s: float
    cap_s: float

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** (failures - self.free)))

    def wait(self, failures: int, last_failure_at: datetime | None, now: datetime) -> float:
        """Seconds before another attempt may be checked (0: go ahead)."""
        if last_failure_at is None:
            return 0.0
        return max(0.0, (last_failure_at + self.delay_after(failures) - now).total_seconds())


class RefreshOutcome(StrEnum):
    ROTATED = "rotated"
    REUSED = "reused"  # a token already exchanged: its whole family is revoked
    UNKNOWN = "unknown"  # expired, revoked or never issued


@dataclass(frozen=True)
class RefreshToken:
    """One link of a session's chain: exchanged once for a new pair, then dead."""

    token_hash: str
    family: str
    username: str
    version: str
    expires_at: datetime
    used: bool = False


class OneTimePurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose label, not a secret
    ACTIVATION = "activation"


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which account, and what changed (never a password, hash or token)."""

    at: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    address: str | None = None
    id: str = ""


def changes(account: Account, updated: Account) -> tuple[dict[str, Any], dict[str, Any]]:
    """The audited fields that differ, before and after."""
    names = ("role", "scope", "disabled")
    before = {n: _plain(getattr(account, n)) for n in names if getattr(account, n) != getattr(updated, n)}
    after = {n: _plain(getattr(updated, n)) for n in before}
    return before, after


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value
