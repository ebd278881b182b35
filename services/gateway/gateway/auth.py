"""Logging in, checking tokens at the door, and managing accounts.

A wrong password and an unknown username get the same answer after the same work (one argon2
verification, one failed-login count), so neither the message nor the timing says which
usernames exist. Repeated failures lock the submitted username for a while, and each client
address may only try a few logins per minute.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from urllib.parse import quote

import jwt
from fastapi import Request

from gateway.metrics import GatewayMetrics
from gateway.models import TokenOut, UserCreate
from gateway.passwords import Passwords
from gateway.proxy import Proxy, UpstreamUnavailable
from gateway.ratelimit import RateLimiter, too_many_requests
from gateway.settings import GatewaySettings
from gateway.users import User, UserStore
from shared.errors import InvalidInput, Unauthorized, Unavailable
from shared.events import utcnow
from shared.identity import Principal, Role, bearer_token, decode_token, issue_token

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "wrong username or password"
LOCAL_DEMO_USERS: tuple[tuple[str, Role, str | None, str | None], ...] = (
    ("office", Role.OFFICE, None, None),  # password: settings.demo_password
    ("operator-wagner", Role.MARKET_OPERATOR, "wagner", "operator-demo"),
    ("shop-ed-demo-isola", Role.SHOPKEEPER, "ed-demo-isola", "shopkeeper-demo"),
    ("shop-bs-demo-drogheria-borsieri", Role.SHOPKEEPER, "bs-demo-drogheria-borsieri", "shopkeeper-demo"),
)
SCOPE_OWNER = {Role.MARKET_OPERATOR: ("markets", "market"), Role.SHOPKEEPER: ("shops", "shop")}


class Authenticator:
    def __init__(
        self, settings: GatewaySettings, users: UserStore, passwords: Passwords, metrics: GatewayMetrics
    ) -> None:
        self.settings = settings
        self.users = users
        self.passwords = passwords
        self.metrics = metrics
        self.attempts = RateLimiter(settings.login_rate_per_minute / 60.0, settings.login_burst)

    async def login(self, username: str, password: str, client: str) -> TokenOut:
        wait = self.attempts.take(client)
        if wait:
            self.metrics.rate_limited.labels("login").inc()
            raise too_many_requests(wait, "too many login attempts from your address; wait and try again")
        name = username.strip().lower()[:64]
        locked_until = await self.users.locked_until(name)
        if locked_until is not None:
            self.metrics.auth_failures.labels("locked").inc()
            raise too_many_requests(
                (locked_until - utcnow()).total_seconds(),
                "too many failed logins for this username; wait and try again",
            )
        user = await self.users.get(name)
        if not await self.passwords.verify(user.password_hash if user else None, password) or user is None:
            self.metrics.auth_failures.labels("bad_credentials").inc()
            await self.users.record_failure(
                name, self.settings.login_max_failures, timedelta(seconds=self.settings.login_lockout_s)
            )
            raise Unauthorized(BAD_CREDENTIALS)
        await self.users.clear_failures(name)
        if self.passwords.needs_rehash(user.password_hash):
            await self.users.set_password_hash(name, await self.passwords.hash(password))
        return self.token_for(user)

    def token_for(self, user: User) -> TokenOut:
        principal = Principal(username=user.username, role=user.role, scope=user.scope)
        ttl = self.settings.token_ttl_s
        return TokenOut(access_token=issue_token(self.settings, principal, timedelta(seconds=ttl)), expires_in=ttl)

    def principal(self, request: Request) -> Principal | None:
        """The caller, or None when anonymous; 401 for a token that is expired, forged or malformed."""
        token = bearer_token(request)
        if token is None:
            return None
        try:
            return decode_token(self.settings, token)
        except Unauthorized:
            self.metrics.auth_failures.labels(_why_invalid(self.settings, token)).inc()
            raise

    def seconds_left(self, token: str) -> float:
        """How long a token that was just verified stays valid."""
        claims = jwt.decode(token, options={"verify_signature": False})
        return max(0.0, float(claims["exp"]) - time.time())


def _why_invalid(settings: GatewaySettings, token: str) -> str:
    try:
        jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], options={"verify_exp": True})
    except jwt.ExpiredSignatureError:
        return "expired_token"
    except jwt.InvalidTokenError:
        return "invalid_token"
    return "invalid_claims"


class Accounts:
    def __init__(self, users: UserStore, passwords: Passwords, proxy: Proxy) -> None:
        self.users = users
        self.passwords = passwords
        self.proxy = proxy

    async def create(self, new: UserCreate, request_headers: list[tuple[str, str]]) -> User:
        if new.scope is not None and new.role in SCOPE_OWNER:
            await self._check_scope_exists(new.role, new.scope, request_headers)
        return await self.users.create(new.username, new.role, new.scope, await self.passwords.hash(new.password))

    async def _check_scope_exists(self, role: Role, scope: str, headers: list[tuple[str, str]]) -> None:
        service, noun = SCOPE_OWNER[role]
        try:
            answer = await self.proxy.call(service, "GET", f"/{service}/{quote(scope, safe='')}", headers=headers)
        except UpstreamUnavailable as exc:
            raise Unavailable(f"cannot check that {noun} {scope!r} exists: {exc.detail}") from exc
        if answer.status_code == 404:
            raise InvalidInput("body.scope", f"there is no {noun} {scope!r}")
        if answer.status_code != 200:
            raise Unavailable(
                f"cannot check that {noun} {scope!r} exists (the {service} service answered {answer.status_code})"
            )

    async def ensure_office_account(self, username: str, password: str) -> bool:
        """Create the installation's first office account unless it exists; True if created."""
        if await self.users.get(username) is not None:
            return False
        hashed = await self.passwords.hash(password)
        created = bool(await self.users.create_if_missing(username, Role.OFFICE, None, hashed))
        if created:
            log.info("bootstrap office account %s created", username)
        return created

    async def create_local_demo_users(self, office_password: str) -> list[str]:
        created = []
        for username, role, scope, password in LOCAL_DEMO_USERS:
            if await self.users.get(username) is None:
                hashed = await self.passwords.hash(password or office_password)
                if await self.users.create_if_missing(username, role, scope, hashed):
                    created.append(username)
        if created:
            log.info("local demo accounts created: %s", ", ".join(created))
        return created
