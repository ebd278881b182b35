"""Use cases of accounts: logging in, sessions, revocation, account management and its audit.

A wrong password and an unknown username get the same answer after the same work (one argon2
verification, one failed-login record), so neither the message nor the timing says which
usernames exist. Failures are counted per username *and* address: after a few, that address
waits progressively longer before its next try, while the owner logging in from elsewhere is
never held back (see :class:`gateway.accounts.domain.Throttle`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from gateway.accounts.domain import (
    Account,
    AuditEntry,
    OneTimePurpose,
    PolicyViolation,
    RefreshToken,
    Throttle,
    changes,
    check_password,
    check_scope,
)
from gateway.accounts.store import AccountStore
from gateway.metrics import GatewayMetrics
from gateway.passwords import Passwords
from gateway.proxy import Proxy, UpstreamUnavailable
from gateway.ratelimit import RateLimiter, too_many_requests
from gateway.settings import GatewaySettings
from shared.errors import AppError, Conflict, InvalidInput, NotFound, Unauthorized, Unavailable
from shared.events import utcnow
from shared.i18n import Said
from shared.identity import Principal, principal_of
from shared.mongo import Mongo
from shared.roles import Role
from shared.tokens import EXPIRED_TOKEN, REVOKED_TOKEN, TokenClaims, TokenSigner, TokenVerifier

log = logging.getLogger(__name__)

BAD_CREDENTIALS = Said("nome utente o password errati", "wrong username or password")
SESSION_ENDED = Said("la sessione è terminata; accedi di nuovo", "the session has ended; log in again")
LOCAL_DEMO_USERS: tuple[tuple[str, Role, str | None, str | None], ...] = (
    ("office", Role.OFFICE, None, None),  # password: settings.demo_password
    ("operator-wagner", Role.MARKET_OPERATOR, "wagner", "operator-demo"),
    ("shop-ed-demo-isola", Role.SHOPKEEPER, "ed-demo-isola", "shopkeeper-demo"),
    ("shop-bs-demo-drogheria-borsieri", Role.SHOPKEEPER, "bs-demo-drogheria-borsieri", "shopkeeper-demo"),
    ("trader-spunta", Role.TRADER, None, "trader-demo"),
)
SCOPE_OWNER = {Role.MARKET_OPERATOR: ("markets", "market"), Role.SHOPKEEPER: ("shops", "shop")}
NOUNS = {"market": "il mercato", "shop": "il negozio"}  # a scope's owner as Italian names it
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")  # an account's name as stored (schemas.USERNAME_PATTERN)
# revoked ids are listed this long after every token they cover has expired (clock skew)
REVOCATION_MARGIN = timedelta(seconds=60)
ACTIVATION_PAGE = "/activate"
UNKNOWN_LINK = Said(
    "questo link non è valido: è già stato usato, ne è stato dato uno più recente o è incompleto; "
    "chiedi un nuovo link all'ufficio commercio",
    "this link is not valid: it was already used, a newer one was given, or it is incomplete; "
    "ask the commerce office for a new one",
)


class InvalidLink(AppError):
    """A one-time token that is unknown, used or expired: 400, naming ``body.token``."""

    status, kind = 400, "invalid-token"

    def __init__(self, detail: Said) -> None:
        super().__init__(detail, errors=[{"field": "body.token", "message": str(detail)}])

    def localized_extra(self, language: str) -> dict[str, object]:
        return {**self.extra, "errors": [{"field": "body.token", "message": self.detail_in(language)}]}


def expired_link(expired_at: datetime) -> Said:
    when = expired_at.strftime("%Y-%m-%d %H:%M UTC")
    return Said(
        f"questo link è scaduto il {when}; chiedi un nuovo link all'ufficio commercio",
        f"this link expired on {when}; ask the commerce office for a new one",
    )


def digest(token: str) -> str:
    """Refresh and one-time tokens are stored by hash: a copy of the database signs no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise(username: str) -> str:
    return username.strip().lower()[:64]


@dataclass(frozen=True)
class Session:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True)
class Actor:
    """Who acts, from where (for the audit log)."""

    username: str
    address: str | None = None


@dataclass
class AccountService:
    settings: GatewaySettings
    store: AccountStore
    passwords: Passwords
    signer: TokenSigner
    verifier: TokenVerifier
    metrics: GatewayMetrics
    proxy: Proxy
    mongo: Mongo
    attempts: RateLimiter = field(init=False)
    throttle: Throttle = field(init=False)

    def __post_init__(self) -> None:
        self.attempts = RateLimiter(self.settings.login_rate_per_minute / 60.0, self.settings.login_burst)
        self.throttle = Throttle(
            free=self.settings.login_max_failures,
            base_s=self.settings.login_delay_s,
            cap_s=self.settings.login_lockout_s,
        )

    # tokens and sessions

    def _access(self, account: Account) -> str:
        ttl = timedelta(seconds=self.settings.token_ttl_s)
        return self.signer.issue(
            account.username, account.role.value, account.scope, ttl, version=account.token_version
        )

    async def token_for_job(self, started_with: TokenClaims) -> tuple[str, float]:
        """A fresh access token (and when it expires) for background work a caller started with
        ``started_with`` — an import calling the API on the office's behalf for longer than one token
        lives. The account as it stands now: disabled, or its tokens revoked since (a reset, a role
        change), it gets none. A caller with no stored account (a token the platform's key minted for
        a service or a test) gets the same claims again, under the same revocable version."""
        ttl = timedelta(seconds=self.settings.token_ttl_s)
        account = await self.store.get(started_with.subject)
        if account is None:
            token = self.signer.issue(
                started_with.subject, started_with.role, started_with.scope, ttl, version=started_with.version
            )
        elif not account.can_log_in() or account.token_version != started_with.version:
            raise Unauthorized(
                Said(
                    f"l'utenza {account.username!r} è stata disattivata o le sue sessioni sono state chiuse",
                    f"the account {account.username!r} was disabled or its sessions were ended",
                )
            )
        else:
            token = self._access(account)
        return token, (utcnow() + ttl).timestamp()

    async def _session(self, account: Account, family: str | None = None) -> Session:
        refresh = secrets.token_urlsafe(32)
        ttl = self.settings.refresh_token_ttl_s
        await self.store.add_refresh(
            RefreshToken(
                token_hash=digest(refresh),
                family=family or secrets.token_hex(12),
                username=account.username,
                version=account.token_version,
                expires_at=utcnow() + timedelta(seconds=ttl),
            )
        )
        return Session(self._access(account), self.settings.token_ttl_s, refresh, ttl)

    async def login(self, username: str, password: str, address: str) -> Session:
        self.attempts.admit(
            address,
            Said(
                "troppi tentativi di accesso dal tuo indirizzo; attendi e riprova",
                "too many login attempts from your address; wait and try again",
            ),
            self.metrics.rate_limited.labels("login").inc,
        )
        name = normalise(username)
        now = utcnow()
        failures, last = await self.store.failures_of(name, address)
        wait = self.throttle.wait(failures, last, now)
        if wait > 0:
            self.metrics.auth_failures.labels("locked").inc()
            raise too_many_requests(
                wait,
                Said(
                    "troppi accessi falliti con questo nome utente dal tuo indirizzo; attendi e riprova",
                    "too many failed logins for this username from your address; wait and try again",
                ),
            )
        account = await self.store.get(name)
        matched = await self.passwords.verify(account.password_hash if account else None, password)
        if account is None or not matched or not account.can_log_in():
            self.metrics.auth_failures.labels("bad_credentials").inc()
            await self.store.record_failure(name, address, now)
            raise Unauthorized(BAD_CREDENTIALS)
        if failures:
            await self.store.clear_failures(name, address)
        assert account.password_hash is not None
        if self.passwords.needs_rehash(account.password_hash):
            await self.store.set_password_hash(name, await self.passwords.hash(password))
        await self.store.record_login(name, now)
        return await self._session(account)

    async def refresh(self, refresh_token: str) -> Session:
        """Exchange a refresh token for a new pair; presenting a used one again ends its whole family."""
        now = utcnow()
        token, first_use = await self.store.use_refresh(digest(refresh_token), now)
        if token is None:
            raise Unauthorized(SESSION_ENDED)
        if not first_use:
            await self.store.drop_family(token.family)
            self.metrics.auth_failures.labels("refresh_reused").inc()
            await self.audit(Actor("system"), "session.reuse_detected", token.username)
            log.warning("a used refresh token was presented again; the session of %s is ended", token.username)
            raise Unauthorized(SESSION_ENDED)
        account = await self.store.get(token.username)
        if account is None or not account.can_log_in() or account.token_version != token.version:
            await self.store.drop_family(token.family)
            raise Unauthorized(SESSION_ENDED)
        return await self._session(account, token.family)

    async def logout(self, refresh_token: str | None, access: TokenClaims | None) -> None:
        if refresh_token:
            found = await self.store.find_refresh(digest(refresh_token))
            if found is not None:
                await self.store.drop_family(found.family)
        if access is not None:
            await self._revoke([access.token_id])

    async def authenticate(self, token: str) -> Principal:
        """The gateway's check: signature and claims, then revocation straight from the database
        (the in-memory list if the database cannot answer)."""
        try:
            claims = self.verifier.verify_signature(token)
            ids = [claims.version, claims.token_id]
            try:
                revoked = await self.store.is_revoked(ids, utcnow())
            except PyMongoError:
                revoked = self.verifier.is_revoked(claims)
            if revoked:
                raise Unauthorized(REVOKED_TOKEN)
            return principal_of(claims)
        except Unauthorized as exc:
            reason = (
                {EXPIRED_TOKEN: "expired", REVOKED_TOKEN: "revoked"}.get(exc.said, "invalid") if exc.said else "invalid"
            )
            self.metrics.auth_failures.labels(f"{reason}_token").inc()
            raise

    async def _revoke(self, ids: list[str]) -> None:
        until = utcnow() + timedelta(seconds=self.settings.token_ttl_s) + REVOCATION_MARGIN
        await self.store.revoke(ids, until)
        self.verifier.add_revoked(ids)

    async def revoked_ids(self) -> list[str]:
        return await self.store.revoked_ids(utcnow())

    async def poll_revocations(self) -> None:
        """Keep the gateway's in-memory list current (used when its database does not answer)."""
        self.verifier.set_revoked(await self.store.revoked_ids(utcnow()))

    # account changes

    async def _account(self, username: str) -> Account:
        account = await self.store.get(normalise(username))
        if account is None:
            raise NotFound(Said(f"non esiste l'account {username!r}", f"there is no account {username!r}"))
        return account

    async def _save(self, before: Account, after: Account, *, revoke: bool) -> Account:
        """Store a change; with ``revoke``, end every token and session the account holds."""
        if revoke:
            after = replace(after, token_version=after.revoked().token_version)
        if not await self.store.replace(before, after):
            raise Conflict(
                Said(
                    f"l'account {before.username!r} è stato modificato nel frattempo; riprova",
                    f"the account {before.username!r} changed meanwhile; try again",
                )
            )
        if revoke:
            await self._revoke([before.token_version])
            await self.store.drop_refresh_of(before.username)
        return after

    async def audit(
        self,
        actor: Actor,
        action: str,
        target: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
        session: AsyncClientSession | None = None,
    ) -> None:
        """Record who did what to ``target`` (an account, or a registration: ``registration:<id>``)."""
        await self.store.record(
            AuditEntry(
                at=utcnow(),
                actor=actor.username,
                action=action,
                target=target,
                before=before,
                after=after,
                address=actor.address,
            ),
            session,
        )

    async def audit_relayed(
        self,
        actor: Actor,
        method: str,
        template: str,
        path: str,
        body: dict[str, object],
        before: dict[str, object] | None = None,
    ) -> None:
        """Record an office write that the gateway relayed to a service and the service accepted: the
        action is the route (``PUT /districts/{code}/thresholds``), the target the path it acted on,
        ``after`` what was sent, ``before`` those fields as they stood (PUT and PATCH). A failure to
        record is logged, never turned into a failed write."""
        try:
            await self.audit(actor, f"{method} {template}", path, before=before, after=body)
        except Exception:
            log.exception("could not record %s %s by %s in the audit log", method, path, actor.username)

    async def create(
        self, actor: Actor, username: str, password: str, role: Role, scope: str | None, headers: list[tuple[str, str]]
    ) -> Account:
        _policy(check_password, password, username)
        _policy(check_scope, role, scope)
        if scope is not None and role in SCOPE_OWNER:
            await self.check_scope_exists(role, scope, headers)
        account = Account(
            username=username,
            role=role,
            scope=scope,
            password_hash=await self.passwords.hash(password),
            created_at=utcnow(),
        )

        async def work(session: AsyncClientSession) -> None:
            await self.store.create(account, session)
            await self.audit(actor, "user.create", username, None, {"role": role.value, "scope": scope}, session)

        await self.mongo.transaction(work)
        return account

    async def update(
        self, actor: Actor, username: str, fields: dict[str, object], headers: list[tuple[str, str]]
    ) -> Account:
        account = await self._account(username)
        role = Role(str(fields["role"])) if fields.get("role") is not None else account.role
        scope = fields.get("scope", account.scope if role is account.role else None)
        if scope is not None and not isinstance(scope, str):
            raise InvalidInput("body.scope", Said("l'ambito deve essere un testo", "the scope must be a string"))
        if account.username == actor.username and role is not account.role:
            raise Conflict(
                Said(
                    "non puoi cambiare il tuo ruolo: chiedi a un altro account dell'ufficio",
                    "you cannot change your own role; ask another office account",
                )
            )
        _policy(check_scope, role, scope)
        if scope is not None and role in SCOPE_OWNER and (role, scope) != (account.role, account.scope):
            await self.check_scope_exists(role, scope, headers)
        updated = replace(account, role=role, scope=scope)
        before, after = changes(account, updated)
        if not before:
            return account
        updated = await self._save(account, updated, revoke=True)
        await self.audit(actor, "user.update", account.username, before, after)
        return updated

    async def disable(self, actor: Actor, username: str) -> Account:
        account = await self._account(username)
        if account.username == actor.username:
            raise Conflict(Said("non puoi disabilitare il tuo account", "you cannot disable your own account"))
        updated = await self._save(account, replace(account, disabled=True), revoke=True)
        await self.store.drop_one_time_of(account.username)
        if not account.disabled:
            await self.audit(actor, "user.disable", account.username, {"disabled": False}, {"disabled": True})
        return updated

    async def enable(self, actor: Actor, username: str) -> Account:
        account = await self._account(username)
        await self.store.clear_failures(account.username)
        if not account.disabled:
            return account
        updated = await self._save(account, replace(account, disabled=False), revoke=False)
        await self.audit(actor, "user.enable", account.username, {"disabled": True}, {"disabled": False})
        return updated

    async def unlock(self, actor: Actor, username: str) -> int:
        account = await self._account(username)
        cleared = await self.store.clear_failures(account.username)
        await self.audit(
            actor, "user.unlock", account.username, {"throttled_addresses": cleared}, {"throttled_addresses": 0}
        )
        return cleared

    async def reset_password(self, actor: Actor, username: str) -> tuple[str, datetime]:
        """End the account's sessions, void its password and return a one-time token to set a new one."""
        account = await self._account(username)
        await self._save(account, replace(account, password_hash=None), revoke=True)
        token = secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(seconds=self.settings.one_time_token_ttl_s)
        await self.store.add_one_time(digest(token), account.username, OneTimePurpose.PASSWORD_RESET, expires_at)
        await self.audit(
            actor,
            "user.password_reset",
            account.username,
            {"password_set": account.password_hash is not None},
            {"password_set": False},
        )
        return token, expires_at

    def activation_url(self, token: str) -> str:
        """The page that sets a password with a one-time token (``/activate``, see gateway.web)."""
        return f"{self.settings.public_url.rstrip('/')}{ACTIVATION_PAGE}?token={quote(token, safe='')}"

    async def open_account(
        self, actor: Actor, username: str, role: Role, scope: str | None, session: AsyncClientSession
    ) -> tuple[str, datetime]:
        """Create an account with no password yet and a one-time activation token that sets it, in
        the caller's transaction; the token (given once, stored by hash) and when it expires."""
        _policy(check_scope, role, scope)
        account = Account(username=username, role=role, scope=scope, password_hash=None, created_at=utcnow())
        await self.store.create(account, session)
        token = secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(seconds=self.settings.one_time_token_ttl_s)
        await self.store.add_one_time(digest(token), username, OneTimePurpose.ACTIVATION, expires_at, session)
        await self.audit(
            actor, "user.create", username, None, {"role": role.value, "scope": scope, "password_set": False}, session
        )
        return token, expires_at

    async def activate(self, token: str, password: str, address: str | None) -> Account:
        found = await self.store.peek_one_time(digest(token))
        if found is None:
            raise InvalidLink(UNKNOWN_LINK)
        username, expires_at = found
        if expires_at <= utcnow():
            raise InvalidLink(expired_link(expires_at))
        _policy(check_password, password, username)  # refused: the link stays usable for a better password
        if await self.store.take_one_time(digest(token), utcnow()) is None:
            raise InvalidLink(UNKNOWN_LINK)
        account = await self._account(username)
        updated = replace(account, password_hash=await self.passwords.hash(password))
        updated = await self._save(account, updated, revoke=True)
        await self.store.clear_failures(username)
        await self.audit(
            Actor(username, address), "account.activate", username, {"password_set": False}, {"password_set": True}
        )
        return updated

    async def change_password(self, caller: Principal, current: str, new: str, address: str) -> Session:
        account = await self._account(caller.username)
        now = utcnow()
        failures, last = await self.store.failures_of(account.username, address)
        wait = self.throttle.wait(failures, last, now)
        if wait > 0:
            raise too_many_requests(
                wait, Said("troppe password errate; attendi e riprova", "too many wrong passwords; wait and try again")
            )
        if not await self.passwords.verify(account.password_hash, current):
            await self.store.record_failure(account.username, address, now)
            raise InvalidInput(
                "body.current_password",
                Said("la password attuale non è corretta", "the current password is not right"),
            )
        _policy(check_password, new, account.username, "body.new_password")
        if new == current:
            raise InvalidInput(
                "body.new_password",
                Said(
                    "scegli una password diversa da quella attuale", "choose a password different from the current one"
                ),
            )
        updated = replace(account, password_hash=await self.passwords.hash(new))
        updated = await self._save(account, updated, revoke=True)
        await self.audit(Actor(account.username, address), "account.password_change", account.username)
        return await self._session(updated)

    async def check_scope_exists(
        self, role: Role, scope: str, headers: list[tuple[str, str]], field: str = "body.scope"
    ) -> None:
        service, noun = SCOPE_OWNER[role]
        try:
            answer = await self.proxy.call(service, "GET", f"/{service}/{quote(scope, safe='')}", headers=headers)
        except UpstreamUnavailable as exc:
            raise Unavailable(
                Said(
                    f"impossibile verificare che {NOUNS[noun]} {scope!r} esista: {exc.detail.it}",
                    f"cannot check that {noun} {scope!r} exists: {exc.detail.en}",
                )
            ) from exc
        # 422: the service says no id of that shape can exist (a market id is a slug, for one)
        if answer.status_code in (404, 422):
            raise InvalidInput(field, Said(f"non esiste {NOUNS[noun]} {scope!r}", f"there is no {noun} {scope!r}"))
        if answer.status_code != 200:
            raise Unavailable(
                Said(
                    f"impossibile verificare che {NOUNS[noun]} {scope!r} esista "
                    f"(il servizio {service} ha risposto {answer.status_code})",
                    f"cannot check that {noun} {scope!r} exists (the {service} service answered {answer.status_code})",
                )
            )

    async def check_trader(self, username: str, field: str) -> None:
        """Refuse (422 on ``field``) a write naming ``username`` as a trader when no trader has that
        account: unknown, or another role's. A name that cannot be a username is left to the service
        that receives the write, which refuses its shape."""
        name = username.strip().lower()
        if not USERNAME.fullmatch(name):
            return
        account = await self.store.get(name)
        if account is None or account.role is not Role.TRADER:
            raise InvalidInput(
                field,
                Said(
                    f"nessun ambulante ha il nome utente {name!r}: controlla come è scritto",
                    f"no trader has the username {name!r}: check how it is spelt",
                ),
            )

    # lists

    async def page(self, limit: int, offset: int) -> tuple[list[Account], int]:
        return await self.store.page(limit, offset)

    async def audit_page(
        self, actor: str | None, since: datetime | None, until: datetime | None, limit: int, offset: int
    ) -> tuple[list[AuditEntry], int]:
        return await self.store.audit_page(actor, since, until, limit, offset)

    async def audit_all(
        self, actor: str | None, since: datetime | None, until: datetime | None, batch: int = 500
    ) -> AsyncIterator[AuditEntry]:
        offset = 0
        while True:
            entries, _ = await self.store.audit_page(actor, since, until, batch, offset)
            for entry in entries:
                yield entry
            if len(entries) < batch:
                return
            offset += batch

    # first accounts

    async def ensure_office_account(self, username: str, password: str) -> bool:
        """Create the installation's first office account unless it exists; True if created."""
        if await self.store.get(username) is not None:
            return False
        account = Account(username, Role.OFFICE, None, await self.passwords.hash(password), utcnow())
        created = await self.store.create_if_missing(account)
        if created:
            log.info("bootstrap office account %s created", username)
            await self.audit(Actor("system"), "user.create", username, None, {"role": Role.OFFICE.value, "scope": None})
        return created

    async def create_local_demo_users(self, office_password: str) -> list[str]:
        created = []
        for username, role, scope, password in LOCAL_DEMO_USERS:
            if await self.store.get(username) is None:
                account = Account(
                    username, role, scope, await self.passwords.hash(password or office_password), utcnow()
                )
                if await self.store.create_if_missing(account):
                    created.append(username)
        if created:
            log.info("local demo accounts created: %s", ", ".join(created))
        return created


def _policy(check: Callable[..., None], *args: Any) -> None:
    """Run a domain rule and turn its refusal into a 422 naming the field."""
    try:
        check(*args)
    except PolicyViolation as exc:
        raise InvalidInput(exc.field, exc.message) from exc
