"""Import jobs in a real gateway (its database and broker from the harness, stand-in services behind it):
the job writes through the gateway's own API, its token is issued again before it expires, and a job
whose gateway stopped is reported interrupted."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from gateway.imports.domain import ImportJob, JobState
from gateway.imports.service import CredentialsRefused, JobCredentials
from gateway.imports.store import ImportStore

from devkit.testing import unique
from shared.events import utcnow
from shared.identity import Role

from .conftest import RunningGateway, Upstreams

pytestmark = pytest.mark.integration
API = "/api/v1"
KIOSK_HEADER = "cod_ese,tipo_edi,status,indirizzo,cap,municipio,id_nil,nil,long_x_4326,lat_y_4326,location"


async def _finished(gateway: RunningGateway, location: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while True:
        job: dict[str, object] = (await gateway.client.get(location, headers=gateway.bearer())).json()
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"the import is still {job['state']}"
        await asyncio.sleep(0.05)


async def test_an_upload_is_written_through_the_gateway_as_the_uploader(
    gateway: RunningGateway, upstreams: Upstreams
) -> None:
    code = unique("k")
    register = f"{KIOSK_HEADER}\n{code},Chiosco,attiva,Piazzale Segrino,20159,9,11,ISOLA,9.1903,45.4899,\n"
    upload = await gateway.client.post(
        f"{API}/imports", files={"file": ("edicole.csv", register.encode())}, headers=gateway.bearer(name="uploader")
    )
    assert upload.status_code == 202, upload.text
    job = await _finished(gateway, upload.headers["location"])
    assert job["state"] == "done" and job["outcomes"] == {"created": 1, "updated": 0, "unchanged": 0}, job
    assert job["actor"] == "uploader"
    # the stand-in shops service received the row as the gateway relays any client's write
    assert upstreams.count("PUT", f"/shops/ed-{code}") == 1
    assert upstreams.shops[f"ed-{code}"]["kind"] == "kiosk"


async def test_the_jobs_token_is_issued_again_before_it_expires(gateway: RunningGateway) -> None:
    accounts = gateway.app.state.gateway.accounts
    short = gateway.token(Role.OFFICE, name="importer", ttl_s=2)
    credentials = JobCredentials(accounts, short)
    assert await credentials() == short, "a token far from its expiry is used as it is"
    await asyncio.sleep(1.6)
    renewed = await credentials()
    assert renewed != short
    claims = accounts.verifier.verify_signature(renewed)
    assert (claims.subject, claims.role) == ("importer", "commerce_office")
    assert claims.expires_at > time.time() + gateway.settings.token_ttl_s - 5
    assert (
        await gateway.client.get(f"{API}/imports", headers={"Authorization": f"Bearer {renewed}"})
    ).status_code == 200


async def test_a_disabled_uploader_gets_no_new_token(gateway: RunningGateway) -> None:
    accounts = gateway.app.state.gateway.accounts
    office = gateway.bearer(name="office-admin")
    username, password = unique("ufficio"), "a-sound-passphrase-42"
    body = {"username": username, "password": password, "role": "commerce_office"}
    assert (await gateway.client.post(f"{API}/users", json=body, headers=office)).status_code == 201
    login = await gateway.client.post(f"{API}/auth/token", data={"username": username, "password": password})
    token = login.json()["access_token"]
    credentials = JobCredentials(accounts, token)
    assert (await accounts.token_for_job(credentials.claims))[0] != token
    assert (await gateway.client.post(f"{API}/users/{username}/disable", headers=office)).status_code == 200
    credentials._expires_at = time.time()  # as if the upload's token were about to expire
    with pytest.raises(CredentialsRefused) as refused:
        await credentials()
    assert "disabled" in refused.value.reason.in_("en") and "disattivata" in refused.value.reason.in_("it")


async def test_a_job_whose_gateway_stopped_is_reported_interrupted(gateway: RunningGateway) -> None:
    store = ImportStore(gateway.app.state.runtime.mongo.db)
    beaten = utcnow() - timedelta(seconds=gateway.settings.import_stale_after_s + 5)
    job = ImportJob(
        id=unique("orphan").replace("-", ""),
        file="ds290_botteghe_storiche.csv",
        size=10,
        importer="historic-shops",
        description="Register of Milan's historic shops",
        state=JobState.RUNNING,
        language="en",
        actor="office",
        submitted_at=beaten,
        heartbeat_at=beaten,
        rows_total=626,
        rows_done=100,
        created=100,
    )
    await store.add(job, b"n;targa\n")
    found = (await gateway.client.get(f"{API}/imports/{job.id}", headers=gateway.bearer())).json()
    assert found["state"] == "interrupted" and "upload the file again" in found["error"]
    assert (found["rows_done"], found["outcomes"]["created"], found["finished_at"] is not None) == (100, 100, True)
    audit = (await gateway.client.get(f"{API}/audit", params={"actor": "office"}, headers=gateway.bearer())).json()
    entry = next(e for e in audit["items"] if e["target"] == f"import:{job.id}")
    assert entry["action"] == "import.run" and entry["after"]["state"] == "interrupted"
    assert entry["after"]["created"] == 100 and entry["after"]["rows_total"] == 626

    fresh = ImportJob(**{**job.__dict__, "id": unique("live").replace("-", ""), "heartbeat_at": utcnow()})
    await store.add(fresh, b"n;targa\n")
    still = (await gateway.client.get(f"{API}/imports/{fresh.id}", headers=gateway.bearer())).json()
    assert still["state"] == "running", "a job that beats recently is left running"


async def test_imports_are_listed_newest_first_for_the_office_only(gateway: RunningGateway) -> None:
    listed = await gateway.client.get(f"{API}/imports", params={"limit": 2}, headers=gateway.bearer())
    assert listed.status_code == 200 and listed.json()["limit"] == 2
    stamps = [j["submitted_at"] for j in listed.json()["items"]]
    assert stamps == sorted(stamps, reverse=True)
    operator = gateway.bearer(Role.MARKET_OPERATOR, "wagner")
    assert (await gateway.client.get(f"{API}/imports", headers=operator)).status_code == 403
    assert (await gateway.client.get(f"{API}/imports")).status_code == 401
    missing = await gateway.client.get(f"{API}/imports/nothing-here", headers=gateway.bearer())
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


async def test_an_upload_is_read_only_once_the_office_is_known(gateway: RunningGateway) -> None:
    """The caller is checked before the body: a malformed one from anyone else is refused for who they are."""
    not_multipart = {"content": b'{"file": "x"}', "headers": {"Content-Type": "application/json"}}
    anonymous = await gateway.client.post(f"{API}/imports", **not_multipart)  # type: ignore[arg-type]
    assert anonymous.status_code == 401
    keeper = gateway.bearer(Role.SHOPKEEPER, "ed-demo-isola")
    refused = await gateway.client.post(
        f"{API}/imports",
        content=b"--x\r\nbroken",
        headers={**keeper, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert refused.status_code == 403
    office = await gateway.client.post(
        f"{API}/imports", content=b'{"file": "x"}', headers={**gateway.bearer(), "Content-Type": "application/json"}
    )
    assert office.status_code == 422 and office.json()["errors"][0]["field"] == "body.file"
