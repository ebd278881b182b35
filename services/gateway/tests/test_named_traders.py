"""A write that names a trader's account is relayed only when the gateway knows that account as a
trader's: registering a made-up name as present at the spunta is refused on the field, in the
caller's language, before the markets service is asked."""

from __future__ import annotations

import pytest

from devkit.testing import unique
from shared.identity import Role

from .conftest import RunningGateway, Upstreams

pytestmark = pytest.mark.integration
API = "/api/v1"
DAY = "2026-06-10"
PRESENT = f"/markets/wagner/spunta/{DAY}/candidates"


async def _account(gateway: RunningGateway, role: str, scope: str | None = None) -> str:
    username = unique(role.replace("_", "-"))
    body = {"username": username, "password": "a-sound-passphrase-42", "role": role, "scope": scope}
    created = await gateway.client.post(f"{API}/users", json=body, headers=gateway.bearer(name="office-admin"))
    assert created.status_code == 201, created.text
    return username


async def test_only_a_trader_account_is_registered_present(gateway: RunningGateway, upstreams: Upstreams) -> None:
    trader = await _account(gateway, "trader")
    operator_account = await _account(gateway, "market_operator", "wagner")
    office = gateway.bearer()
    operator = gateway.bearer(Role.MARKET_OPERATOR, "wagner", name="operator-wagner")
    relayed = upstreams.count("POST", PRESENT)

    for caller in (office, operator):
        for named in ("nobody-xyz", operator_account, "  Nobody-XYZ "):
            refused = await gateway.client.post(API + PRESENT, json={"trader": named}, headers=caller)
            assert refused.status_code == 422, refused.text
            problem = refused.json()
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert [e["field"] for e in problem["errors"]] == ["body.trader"], problem
            assert "nessun ambulante ha il nome utente" in problem["errors"][0]["message"]
            assert named.strip().lower() in problem["errors"][0]["message"]
    english = await gateway.client.post(
        API + PRESENT, json={"trader": "nobody-xyz"}, headers={**office, "Accept-Language": "en"}
    )
    assert english.status_code == 422
    assert english.json()["errors"][0]["message"] == "no trader has the username 'nobody-xyz': check how it is spelt"
    assert upstreams.count("POST", PRESENT) == relayed, "a refused name reached the markets service"

    # a trader's account, however it is typed, is relayed as it was sent
    for caller in (office, operator):
        accepted = await gateway.client.post(API + PRESENT, json={"trader": f" {trader.upper()} "}, headers=caller)
        assert accepted.status_code == 201, accepted.text
    assert upstreams.count("POST", PRESENT) == relayed + 2

    # the gateway says nothing about accounts to those who may not register anyone there
    elsewhere = gateway.bearer(Role.MARKET_OPERATOR, "barona", name="operator-barona")
    shopkeeper = gateway.bearer(Role.SHOPKEEPER, "ed-demo-isola", name="shop-ed")
    for caller in (elsewhere, shopkeeper):
        for named in ("nobody-xyz", trader):
            answer = await gateway.client.post(API + PRESENT, json={"trader": named}, headers=caller)
            assert answer.status_code == 403, answer.text
    # a trader registers themself; naming another is the service's to refuse, whoever that is
    me = gateway.bearer(Role.TRADER, name=trader)
    assert (await gateway.client.post(API + PRESENT, json={"trader": trader}, headers=me)).status_code == 201
    assert (await gateway.client.post(API + PRESENT, json={"trader": "nobody-xyz"}, headers=me)).status_code == 201
    assert upstreams.count("POST", PRESENT) == relayed + 4
    # a body that is not what the route takes is the service's to refuse
    for odd in ({"trader": 7}, {"someone": "nobody-xyz"}, ["nobody-xyz"]):
        answer = await gateway.client.post(API + PRESENT, json=odd, headers=office)
        assert answer.status_code == 201, (odd, answer.text)
