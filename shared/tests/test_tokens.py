"""Token signing and verification without any server: keys, algorithms, claims, revocation, the key feed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared.errors import Unauthorized, Unavailable
from shared.tokens import (
    KeyFeed,
    TokenSigner,
    TokenVerifier,
    generate_private_pem,
    key_id,
    load_private_key,
    load_public_keys,
)

ISSUER, AUDIENCE = "milano-commerce", "milano-commerce-api"


def _signer(pem: str | None = None, previous: str | None = None) -> TokenSigner:
    return TokenSigner(
        load_private_key(pem or generate_private_pem()),
        load_public_keys(previous) if previous else [],
        issuer=ISSUER,
        audience=AUDIENCE,
    )


def _verifier(*signers: TokenSigner) -> TokenVerifier:
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    verifier.set_keys(key for s in signers for key in s.public_keys)
    return verifier


async def test_a_token_carries_its_kid_and_claims_and_verifies_with_the_public_key_only() -> None:
    signer = _signer()
    token = signer.issue("ada", "commerce_office", None, timedelta(minutes=1), version="v-1", token_id="t-1")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    verifier.set_jwks(json.loads(json.dumps(signer.jwks())))
    claims = await verifier.verify(token)
    assert (claims.subject, claims.role, claims.scope, claims.version, claims.token_id) == (
        "ada",
        "commerce_office",
        None,
        "v-1",
        "t-1",
    )
    assert "d" not in signer.jwks()["keys"][0], "no private part is published"


async def test_forged_foreign_and_revoked_tokens_are_refused() -> None:
    signer, stranger = _signer(), _signer()
    verifier = _verifier(signer)
    good = signer.issue("ada", "shopkeeper", "s-1", timedelta(minutes=1), version="v-1")
    x = signer.jwks()["keys"][0]["x"]
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = {
        "another key": stranger.issue("ada", "commerce_office", None, timedelta(minutes=1), version="v-1"),
        "HS256 keyed with the public key": jwt.encode(claims, x, algorithm="HS256", headers={"kid": signer.kid}),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": signer.kid}),
        "expired": signer.issue("ada", "shopkeeper", "s-1", timedelta(seconds=-5), version="v-1"),
        "another audience": TokenSigner(
            load_private_key(generate_private_pem()), [], issuer=ISSUER, audience="elsewhere"
        ).issue("ada", "shopkeeper", None, timedelta(minutes=1), version="v"),
        "not a token": "abc.def",
    }
    accepted = []
    for why, token in forged.items():
        try:
            await verifier.verify(token)
            accepted.append(why)
        except Unauthorized:
            pass
    assert not accepted, f"accepted: {accepted}"
    verifier.set_revoked(["v-1"])
    with pytest.raises(Unauthorized) as refused:
        await verifier.verify(good)
    assert "revoked" in refused.value.detail_in("en") and "revocato" in refused.value.detail_in("it")
    with pytest.raises(Unavailable):
        await TokenVerifier(issuer=ISSUER, audience=AUDIENCE).verify(good)


async def test_rotation_keeps_previous_keys_until_removed() -> None:
    old_pem, new_pem = generate_private_pem(), generate_private_pem()
    old, rotated = _signer(old_pem), _signer(new_pem, previous=old_pem)
    assert [key_id(k) for k in rotated.public_keys] == [rotated.kid, old.kid]
    token = old.issue("ada", "trader", None, timedelta(minutes=1), version="v")
    assert (await _verifier(rotated).verify(token)).subject == "ada"
    with pytest.raises(Unauthorized):
        await _verifier(_signer(new_pem)).verify(token)


async def _polled_feed(answer: Callable[[httpx.Request], Any], min_refetch_s: float) -> tuple[TokenVerifier, KeyFeed]:
    """A verifier fed by the gateway's well-known documents as ``answer`` serves them, polled once."""
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    feed = KeyFeed(
        verifier,
        "http://gw",
        keys_every_s=300,
        revocations_every_s=5,
        min_refetch_s=min_refetch_s,
        transport=httpx.MockTransport(answer),
    )
    await feed.poll_once()
    return verifier, feed


async def test_the_feed_fetches_keys_for_an_unknown_kid_and_polls_revocations() -> None:
    first, second = _signer(), _signer()
    published = {"jwks": first.jwks(), "revoked": []}
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("jwks.json"):
            return httpx.Response(200, json=published["jwks"])
        return httpx.Response(200, json={"revoked": published["revoked"]})

    verifier, feed = await _polled_feed(answer, min_refetch_s=0)
    assert verifier.key_ids == [first.kid]
    published["jwks"] = {"keys": first.jwks()["keys"] + second.jwks()["keys"]}
    token = second.issue("ada", "trader", None, timedelta(minutes=1), version="v-2")
    assert (await verifier.verify(token)).subject == "ada", "an unknown kid made the feed fetch the keys"
    published["revoked"] = ["v-2"]
    await feed.poll_once()
    with pytest.raises(Unauthorized) as refused:
        await verifier.verify(token)
    assert "revoked" in refused.value.detail_in("en")
    await feed.stop()
    assert calls.count("/.well-known/jwks.json") == 2


async def test_a_kid_rotated_in_just_after_a_poll_is_accepted_and_forged_kids_share_fetches() -> None:
    first, second, forger = _signer(), _signer(), _signer()
    published = {"jwks": first.jwks()}
    fetches: list[float] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("jwks.json"):
            fetches.append(time.monotonic())  # when the fetch began: its own duration varies under load
        await asyncio.sleep(0.02)  # a fetch takes a while, as over a network
        if request.url.path.endswith("jwks.json"):
            return httpx.Response(200, json=published["jwks"])
        return httpx.Response(200, json={"revoked": []})

    verifier, feed = await _polled_feed(answer, min_refetch_s=0.5)
    forged = [forger.issue(f"x{i}", "trader", None, timedelta(minutes=1), version="v") for i in range(40)]
    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
    assert all(isinstance(r, Unauthorized) for r in results)
    assert len(fetches) == 2, f"40 forged kids at once cost one fetch beside the poll, not {len(fetches) - 1}"

    # the key rotates in right after a fetch: the next token is still accepted, after a short wait
    published["jwks"] = {"keys": first.jwks()["keys"] + second.jwks()["keys"]}
    token = second.issue("ada", "trader", None, timedelta(minutes=1), version="v-2")
    assert (await verifier.verify(token)).subject == "ada"
    assert len(fetches) == 3
    # 0.5 s apart as the verifier counts; the test's clock reads it a few ms either way on a loaded
    # machine (an unspaced fetch would come about 0.02 s after the last)
    assert fetches[2] - fetches[1] >= 0.45, "fetches on demand are spaced by min_refetch_s"
    await feed.stop()
