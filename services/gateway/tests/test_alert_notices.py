"""New district alerts reach the office: mailed through a real SMTP sink and posted to a webhook, by a
real gateway consuming a real broker — once per alert, retried, and never for old or other events."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from devkit.stack.mail_sink import text_of
from devkit.testing import LocalKafka, LocalMail, LocalMongo, produce, unique
from shared.events import CloudEvent, utcnow

from .conftest import Upstreams, gateway_settings, running_gateway, serve

pytestmark = pytest.mark.integration


def raised(alert_id: str, district: str, *, hours_ago: float = 0) -> CloudEvent:
    at = utcnow() - timedelta(hours=hours_ago)
    data = {
        "alert_id": alert_id,
        "district": district,
        "condition": "low_occupancy",
        "detail": "stall occupancy 40% (alert below 60%, resolved from 70%)",
        "detail_it": "occupazione dei posteggi 40% (allerta sotto 60%, rientra da 70%)",
        "value": 0.4,
        "threshold": 0.6,
        "at": at.isoformat(),
    }
    return CloudEvent(source="/districts", type="districts.alert.raised.v1", subject=district, data=data)


class Hook:
    """A webhook receiver that refuses its first call (503), as a receiver that is restarting would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.app = FastAPI()

        @self.app.post("/alerts")
        async def receive(request: Request) -> Response:
            self.calls.append((request.headers.get("idempotency-key", ""), await request.json()))
            return Response(status_code=503 if len(self.calls) == 1 else 204)


async def _until(check: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def test_a_new_alert_is_mailed_and_posted_once_and_old_or_other_events_are_not(
    kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams, mail_sink: LocalMail
) -> None:
    topic = unique("districts.events")
    office, mayor = f"{unique('ufficio')}@comune.milano.invalid", f"{unique('assessore')}@comune.milano.invalid"
    hook = Hook()
    async with serve(hook.app) as hook_url:
        settings = gateway_settings(
            kafka,
            mongo,
            upstreams,
            smtp_url=mail_sink.url,
            public_url="http://dashboard.comune.milano.invalid",
            alert_mail_to=[office, mayor],
            alert_webhook_url=f"{hook_url}/alerts",
            alert_topic=topic,
            alert_notice_poll_s=0.2,
        )
        new, old = raised(unique("alert"), "centro"), raised(unique("alert"), "isola", hours_ago=30)
        resolved = CloudEvent(
            source="/districts", type="districts.alert.resolved.v1", subject="centro", data={**new.data}
        )
        async with running_gateway(settings) as gateway:
            # the same event twice (a redelivery), an old alert, a resolution, and bytes that are no event
            messages = [(e.key(), e.to_bytes()) for e in (old, new, new, resolved)] + [(b"centro", b"{not json")]
            await produce(kafka.bootstrap, topic, messages)

            mail = await mail_sink.mailbox.wait_for(office, timeout_s=30)
            assert mail["Subject"] == (
                "Allerta distretto centro: occupazione dei posteggi bassa / District alert: low stall occupancy"
            )
            text = text_of(mail)
            assert text.index("occupazione dei posteggi 40%") < text.index("stall occupancy 40%"), "Italian first"
            assert "http://dashboard.comune.milano.invalid/#district-centro" in text
            await mail_sink.mailbox.wait_for(mayor, timeout_s=10)
            await _until(lambda: len(hook.calls) >= 2, 15, "the webhook was not called again after its 503")

            await asyncio.sleep(2)  # time for any duplicate to arrive
            assert len(mail_sink.mailbox.to(office)) == 1 == len(mail_sink.mailbox.to(mayor)), "one mail per alert"
            assert [key for key, _ in hook.calls] == [new.id, new.id], "one alert, posted until accepted"
            body = hook.calls[-1][1]
            assert (body["alert_id"], body["district"], body["condition"]) == (
                new.data["alert_id"],
                "centro",
                "low_occupancy",
            )
            assert body["detail_it"].startswith("occupazione dei posteggi")
            assert all("isola" not in str(m["Subject"]) for m in mail_sink.mailbox.messages()), (
                "an old alert is not told"
            )
            stored = await gateway.app.state.runtime.mongo.db["alert_notices"].find_one({"_id": new.id})
            assert stored["state"] == "sent", stored
            assert stored["outcomes"] == {f"mail:{office}": "sent", f"mail:{mayor}": "sent", "webhook": "sent"}


async def test_without_addresses_or_webhook_no_notice_consumer_runs(
    kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams
) -> None:
    settings = gateway_settings(kafka, mongo, upstreams, alert_topic=unique("districts.events"))
    async with running_gateway(settings) as gateway:
        groups = [c.group_id for c in gateway.app.state.runtime.consumers]
        assert "gateway-alert-notices" not in groups
