"""Access tokens: signed by the gateway with Ed25519 (EdDSA), verified everywhere with public keys only.

The gateway holds the private key and publishes the public keys (current and previous) as a JWKS
at ``/.well-known/jwks.json``, with a small list of revoked token ids beside it at
``/.well-known/revocations.json``. Every service keeps both in memory with a :class:`KeyFeed`
that polls the gateway in the background, so a service can never mint a token and a revoked
token stops working everywhere within one poll interval (see docs/decisions/0005).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.errors import Unauthorized, Unavailable
from shared.i18n import Said
from shared.tasks import cancel

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "iss", "aud", "jti", "tv"]
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The key's RFC 7638 thumbprint: the same key always gets the same ``kid``, with no registry."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(key))}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw_public(key)),
        "kid": key_id(key),
        "use": "sig",
        "alg": ALGORITHM,
    }


def generate_private_pem() -> str:
    """A new Ed25519 private key as PKCS#8 PEM (what ``JWT_PRIVATE_KEY`` holds)."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def _pem_text(value: str) -> str:
    """PEM given inline, or the path of a file holding it (a mounted Secret)."""
    if "-----BEGIN" in value:
        return value
    path = Path(value.strip())
    if not path.is_file():
        raise ValueError("expected a PEM key or the path of a file holding one")
    return path.read_text()


def load_private_key(value: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_pem_text(value).encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return key


def load_public_keys(value: str) -> list[Ed25519PublicKey]:
    """Every key in a PEM text (or file): public keys as they are, private keys by their public half."""
    keys: list[Ed25519PublicKey] = []
    for block in _PEM_BLOCK.findall(_pem_text(value)):
        if "PRIVATE KEY" in block:
            keys.append(load_private_key(block).public_key())
            continue
        public = serialization.load_pem_public_key(block.encode())
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("previous keys must be Ed25519 keys")
        keys.append(public)
    return keys


INVALID_TOKEN = Said("il token di accesso non è valido", "the token is not valid")
EXPIRED_TOKEN = Said("il token di accesso è scaduto; accedi di nuovo", "the token has expired; log in again")
REVOKED_TOKEN = Said(
    "il token di accesso è stato revocato; accedi di nuovo", "the token has been revoked; log in again"
)
KEYS_NOT_LOADED = Said(
    "le chiavi dei token non sono ancora caricate; riprova tra poco",
    "the token keys are not loaded yet; try again shortly",
)


@dataclass(frozen=True)
class TokenClaims:
    """What a verified access token says."""

    subject: str
    role: str
    scope: str | None
    version: str  # the account's token version when the token was issued
    token_id: str  # jti
    expires_at: float  # seconds since the epoch


class _UnknownKey(Unauthorized):
    """A well-formed token signed with a key id this process does not know (yet)."""

    def __init__(self) -> None:
        super().__init__(INVALID_TOKEN)


class TokenSigner:
    """The gateway's side: signs access tokens with the current key and publishes all public keys."""

    def __init__(
        self, current: Ed25519PrivateKey, previous: Sequence[Ed25519PublicKey], *, issuer: str, audience: str
    ) -> None:
        self._key = current
        self.kid = key_id(current.public_key())
        self.issuer = issuer
        self.audience = audience
        seen = {self.kid}
        self.public_keys = [current.public_key()]
        for key in previous:
            if key_id(key) not in seen:
                seen.add(key_id(key))
                self.public_keys.append(key)

    def issue(
        self, subject: str, role: str, scope: str | None, ttl: timedelta, *, version: str, token_id: str | None = None
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "role": role,
            "scope": scope,
            "tv": version,
            "jti": token_id or uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl.total_seconds()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key) for key in self.public_keys]}


class TokenVerifier:
    """Checks a token's signature (by ``kid``), algorithm, issuer, audience, lifetime and revocation."""

    def __init__(self, *, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._revoked: frozenset[str] = frozenset()
        self._refresh: KeyFeed | None = None

    @property
    def has_keys(self) -> bool:
        return bool(self._keys)

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def set_jwks(self, jwks: dict[str, Any]) -> None:
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or jwk.get("alg", ALGORITHM) != ALGORITHM:
                continue
            key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4)))
            keys[key_id(key)] = key
        if not keys:
            raise ValueError("the key set holds no Ed25519 signing key")
        self._keys = keys

    def set_keys(self, keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id(key): key for key in keys}

    def set_revoked(self, ids: Iterable[str]) -> None:
        self._revoked = frozenset(ids)

    def add_revoked(self, ids: Iterable[str]) -> None:
        self._revoked = self._revoked | frozenset(ids)

    def is_revoked(self, claims: TokenClaims) -> bool:
        return claims.version in self._revoked or claims.token_id in self._revoked

    def refresh_with(self, feed: KeyFeed) -> None:
        self._refresh = feed

    async def verify(self, token: str) -> TokenClaims:
        """The token's claims; 401 when it is forged, expired, foreign or revoked.

        A ``kid`` this process has not seen makes it fetch the key set once (at most every few
        seconds), so tokens of a key that was just rotated in are accepted at once.
        """
        try:
            claims = self.verify_signature(token)
        except _UnknownKey:
            if self._refresh is None:
                raise Unauthorized(INVALID_TOKEN) from None
            await self._refresh.refresh_keys_now()
            try:
                claims = self.verify_signature(token)
            except _UnknownKey:
                raise Unauthorized(INVALID_TOKEN) from None
        if self.is_revoked(claims):
            raise Unauthorized(REVOKED_TOKEN)
        return claims

    def verify_signature(self, token: str) -> TokenClaims:
        """Signature, algorithm, issuer, audience and lifetime only (no revocation)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthorized(INVALID_TOKEN)
        key = self._keys.get(kid)
        if key is None:
            if not self._keys:
                raise Unavailable(KEYS_NOT_LOADED)
            raise _UnknownKey
        return self._decode(token, key)

    def _decode(self, token: str, key: Ed25519PublicKey) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized(EXPIRED_TOKEN) from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        fields = (claims.get("sub"), claims.get("role"), claims.get("tv"), claims.get("jti"))
        if not all(isinstance(value, str) and value for value in fields):
            raise Unauthorized(INVALID_TOKEN)
        scope = claims.get("scope")
        return TokenClaims(
            subject=claims["sub"],
            role=claims["role"],
            scope=scope if isinstance(scope, str) else None,
            version=claims["tv"],
            token_id=claims["jti"],
            expires_at=float(claims["exp"]),
        )


class KeyFeed:
    """Keeps a service's verifier current: the gateway's JWKS and revocation list, polled in the background."""

    def __init__(
        self,
        verifier: TokenVerifier,
        gateway_url: str,
        *,
        keys_every_s: float,
        revocations_every_s: float,
        timeout_s: float = 5.0,
        min_refetch_s: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.verifier = verifier
        self.jwks_url = gateway_url.rstrip("/") + "/.well-known/jwks.json"
        self.revocations_url = gateway_url.rstrip("/") + "/.well-known/revocations.json"
        self.keys_every_s = keys_every_s
        self.revocations_every_s = revocations_every_s
        # tokens naming an unknown kid fetch the keys at most this often (a flood of forged kids
        # must not turn into a flood of requests to the gateway); see refresh_keys_now
        self.min_refetch_s = min_refetch_s
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        self._task: asyncio.Task[None] | None = None
        self._keys_fetched_at = 0.0
        self._on_demand_at = -min_refetch_s
        self._lock = asyncio.Lock()
        self.last_error = "not fetched yet"
        verifier.refresh_with(self)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="token-key-feed")

    async def stop(self) -> None:
        await cancel(self._task)
        await self._http.aclose()

    async def refresh_keys_now(self) -> None:
        """Fetch the key set for a token whose ``kid`` is unknown, sharing fetches between callers.

        A caller is answered by any fetch that finishes after it asked (the periodic poll or
        another caller's). Fetches on demand are spaced by ``min_refetch_s``: a caller that comes
        sooner waits for the next slot rather than being refused, so a key rotated in a moment after
        a poll is still accepted, while a flood of forged ``kid``s costs one fetch per slot.
        """
        asked_at = time.monotonic()
        async with self._lock:
            if self._keys_fetched_at > asked_at:
                return
            wait = self._on_demand_at + self.min_refetch_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._on_demand_at = time.monotonic()
            with contextlib.suppress(httpx.HTTPError, ValueError):
                await self._fetch_keys()

    async def _fetch_keys(self) -> None:
        answer = await self._http.get(self.jwks_url)
        answer.raise_for_status()
        self.verifier.set_jwks(answer.json())
        self._keys_fetched_at = time.monotonic()

    async def _fetch_revocations(self) -> None:
        answer = await self._http.get(self.revocations_url)
        answer.raise_for_status()
        revoked = answer.json().get("revoked")
        if not isinstance(revoked, list):
            raise ValueError("the revocation list has no 'revoked' array")
        self.verifier.set_revoked(str(item) for item in revoked)

    async def poll_once(self) -> None:
        if not self.verifier.has_keys or time.monotonic() - self._keys_fetched_at >= self.keys_every_s:
            async with self._lock:
                await self._fetch_keys()
        await self._fetch_revocations()

    async def _run(self) -> None:
        # a periodic poll, not a retry: after a failure the next poll comes sooner (once a second)
        while True:
            try:
                await self.poll_once()
                self.last_error = ""
                wait = self.revocations_every_s
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("token keys or revocations not fetched from the gateway (%s)", self.last_error)
                wait = min(1.0, self.revocations_every_s)
            await asyncio.sleep(wait)
