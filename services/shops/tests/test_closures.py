"""Closures: declared by the shop's shopkeeper or the office, honoured by the nearest-point search."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shops.closures.domain import Closure, ClosureCalendar, days_text
from shops.offers.hours import WeeklyHours, week_minute

from shared.errors import InvalidInput

HERE = {"lon": 9.2050, "lat": 45.4840}
ALWAYS = [{"day": d, "opens": "00:00", "closes": "00:00"} for d in range(7)]
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def milan_today() -> date:
    return datetime.now(ZoneInfo("Europe/Rome")).date()


async def shop_open_always(service: Any, shop_id: str) -> dict[str, str]:
    """A kiosk offering parcel pickup at every hour; its shopkeeper's headers."""
    shop = {"id": shop_id, "kind": "kiosk", "name": f"Edicola {shop_id}", "location": HERE}
    assert (await service.client.post("/shops", json=shop, headers=service.office)).status_code == 201
    offer = {"service": "ritiro_pacchi", "hours": ALWAYS}
    added = await service.client.post(f"/shops/{shop_id}/services", json=offer, headers=service.office)
    assert added.status_code == 201, added.text
    keeper: dict[str, str] = service.shopkeeper(shop_id)
    return keeper


async def nearest(service: Any, at: str | None = None, **more: Any) -> list[dict[str, Any]]:
    params = {"service": "ritiro_pacchi", **HERE, **({"open_at": at} if at else {}), **more}
    found = await service.client.get("/services/nearest", params=params)
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


@pytest.mark.integration
async def test_a_closure_tomorrow_hides_the_shop_tomorrow_but_not_today(service: Any) -> None:
    client = service.client
    await shop_open_always(service, "ed-ferie")
    keeper = service.shopkeeper("ed-ferie")
    today = milan_today()
    tomorrow = today + timedelta(days=1)
    body = {"from": tomorrow.isoformat(), "to": tomorrow.isoformat(), "reason": "Inventario"}
    declared = await client.post("/shops/ed-ferie/closures", json=body, headers=keeper)
    assert declared.status_code == 201, declared.text
    closure = declared.json()
    assert (closure["from"], closure["to"], closure["reason"]) == (
        tomorrow.isoformat(),
        tomorrow.isoformat(),
        "Inventario",
    )

    assert [i["shop_id"] for i in await nearest(service)] == ["ed-ferie"], "open now"
    assert [i["shop_id"] for i in await nearest(service, f"{today}T18:00")] == ["ed-ferie"]
    assert await nearest(service, f"{tomorrow}T10:00") == []
    assert await nearest(service, f"{tomorrow}T00:00") == []
    assert [i["shop_id"] for i in await nearest(service, f"{tomorrow + timedelta(days=1)}T10:00")] == ["ed-ferie"]
    listed = await nearest(service, f"{tomorrow}T10:00", open_only="false")
    assert [(i["shop_id"], i["open_now"]) for i in listed] == [("ed-ferie", False)]
    assert listed[0]["closure"] == {
        "id": closure["id"],
        "from": str(tomorrow),
        "to": str(tomorrow),
        "reason": "Inventario",
        "hours": [],
    }
    assert (await nearest(service, f"{today}T10:00", open_only="false"))[0]["closure"] is None

    again = await client.post("/shops/ed-ferie/closures", json=body, headers=keeper)
    assert again.status_code == 200 and again.json()["id"] == closure["id"], "a repeated request stores nothing new"
    overlapping = {"from": today.isoformat(), "to": tomorrow.isoformat(), "reason": "Malattia"}
    conflict = await client.post("/shops/ed-ferie/closures", json=overlapping, headers=keeper)
    assert conflict.status_code == 409 and conflict.json()["closure"] == closure["id"]
    listed_closures = (await client.get("/shops/ed-ferie/closures")).json()
    assert listed_closures["total"] == 1 and listed_closures["items"][0]["id"] == closure["id"], "anonymous read"

    gone = await client.delete(f"/shops/ed-ferie/closures/{closure['id']}", headers=service.shopkeeper("ed-altro"))
    assert gone.status_code == 403
    assert (await client.delete(f"/shops/ed-ferie/closures/{closure['id']}")).status_code == 401
    assert (await client.delete(f"/shops/ed-ferie/closures/{closure['id']}", headers=keeper)).status_code == 204
    assert (await client.delete(f"/shops/ed-ferie/closures/{closure['id']}", headers=keeper)).status_code == 404
    assert [i["shop_id"] for i in await nearest(service, f"{tomorrow}T10:00")] == ["ed-ferie"], "withdrawn"
    assert (await client.get("/shops/ed-ferie/closures")).json()["total"] == 0


@pytest.mark.integration
async def test_exceptional_hours_replace_the_weekly_ones_on_their_days(service: Any) -> None:
    client = service.client
    await shop_open_always(service, "ed-vigilia")
    keeper = service.shopkeeper("ed-vigilia")
    eve = milan_today() + timedelta(days=2)
    body = {
        "from": str(eve),
        "to": str(eve),
        "reason": "Vigilia: solo mattina e tardo pomeriggio",
        "hours": [{"opens": "16:00", "closes": "18:30"}, {"opens": "09:00", "closes": "13:00"}],
    }
    declared = await client.post("/shops/ed-vigilia/closures", json=body, headers=keeper)
    assert declared.status_code == 201, declared.text
    assert declared.json()["hours"] == [{"opens": "09:00", "closes": "13:00"}, {"opens": "16:00", "closes": "18:30"}]
    # open all week, but on that day only within the exceptional hours
    for at, expected in (
        ("08:59", []),
        ("09:00", ["ed-vigilia"]),
        ("12:59", ["ed-vigilia"]),
        ("13:00", []),
        ("17:00", ["ed-vigilia"]),
        ("18:30", []),
        ("23:00", []),
    ):
        assert [i["shop_id"] for i in await nearest(service, f"{eve}T{at}")] == expected, at
    shown = (await nearest(service, f"{eve}T10:00"))[0]
    assert shown["hours_today"] == [{"opens": "09:00", "closes": "13:00"}, {"opens": "16:00", "closes": "18:30"}]
    assert shown["closure"]["hours"] == declared.json()["hours"]
    # the day after, the weekly hours again, from midnight
    assert [i["shop_id"] for i in await nearest(service, f"{eve + timedelta(days=1)}T00:30")] == ["ed-vigilia"]
    assert [i["shop_id"] for i in await nearest(service, f"{eve + timedelta(days=1)}T10:00")] == ["ed-vigilia"]

    later = eve + timedelta(days=10)
    for hours, message in (
        ([{"opens": "13:00", "closes": "09:00"}], "finisce prima di cominciare"),
        ([{"opens": "09:00", "closes": "13:00"}, {"opens": "12:00", "closes": "14:00"}], "si sovrappongono"),
    ):
        bad = await client.post(
            "/shops/ed-vigilia/closures",
            json={"from": str(later), "to": str(later), "reason": "x", "hours": hours},
            headers=keeper,
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.hours", bad.text
        assert message in bad.json()["detail"]
    assert (await client.get("/shops/ed-vigilia/closures")).json()["total"] == 1, "nothing stored by the refusals"


@pytest.mark.integration
async def test_bad_closures_are_refused_in_the_callers_language_and_store_nothing(service: Any) -> None:
    client = service.client
    await shop_open_always(service, "ed-chiuso")
    keeper = service.shopkeeper("ed-chiuso")
    backwards = {"from": "2026-08-20", "to": "2026-08-10", "reason": "Ferie"}
    italian = await client.post(
        "/shops/ed-chiuso/closures", json=backwards, headers={**keeper, "Accept-Language": "it"}
    )
    assert italian.status_code == 422 and italian.headers["content-type"].startswith("application/problem+json")
    assert italian.headers["content-language"] == "it"
    assert [e["field"] for e in italian.json()["errors"]] == ["body.to"]
    english = await client.post(
        "/shops/ed-chiuso/closures", json=backwards, headers={**keeper, "Accept-Language": "en"}
    )
    assert english.status_code == 422, english.text
    assert english.json()["detail"] == "The last day (10 August 2026) cannot come before the first (20 August 2026)"
    assert english.json()["errors"][0]["message"] == english.json()["detail"]
    assert (
        italian.json()["detail"] == "L'ultimo giorno (10 agosto 2026) non può venire prima del primo (20 agosto 2026)"
    )

    too_long = {"from": "2026-01-01", "to": "2027-06-30", "reason": "Lavori"}
    assert (await client.post("/shops/ed-chiuso/closures", json=too_long, headers=keeper)).status_code == 422
    not_a_date = await client.post(
        "/shops/ed-chiuso/closures", json={"from": "2026-02-30", "to": "2026-03-01", "reason": "x"}, headers=keeper
    )
    assert not_a_date.status_code == 422 and [e["field"] for e in not_a_date.json()["errors"]] == ["body.from"]
    no_reason = await client.post(
        "/shops/ed-chiuso/closures", json={"from": "2026-08-10", "to": "2026-08-11"}, headers=keeper
    )
    assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["body.reason"]
    summer = date(milan_today().year + 1, 8, 10)
    fine = {"from": str(summer), "to": str(summer + timedelta(days=13)), "reason": "Chiusura estiva"}
    assert (await client.post("/shops/ed-chiuso/closures", json=fine)).status_code == 401
    assert (
        await client.post("/shops/ed-chiuso/closures", json=fine, headers=service.shopkeeper("ed-altro"))
    ).status_code == 403
    assert (await client.post("/shops/ed-nessuno/closures", json=fine, headers=service.office)).status_code == 404
    assert (await client.get("/shops/ed-chiuso/closures")).json()["total"] == 0, "nothing was stored"
    assert (await client.post("/shops/ed-chiuso/closures", json=fine, headers=service.office)).status_code == 201


@pytest.mark.integration
async def test_a_closure_already_over_is_refused_on_its_last_day_and_an_overlap_names_the_days(service: Any) -> None:
    client = service.client
    keeper = await shop_open_always(service, "ed-passato")
    today = milan_today()
    yesterday = today - timedelta(days=1)
    for language, expected in (
        ("it", f"Questa chiusura è già finita ({days_text(yesterday - timedelta(days=1), yesterday, 'it')})"),
        ("en", f"This closure is already over ({days_text(yesterday - timedelta(days=1), yesterday, 'en')})"),
    ):
        over = {"from": str(yesterday - timedelta(days=1)), "to": str(yesterday), "reason": "Ferie"}
        refused = await client.post(
            "/shops/ed-passato/closures", json=over, headers={**keeper, "Accept-Language": language}
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["body.to"]
        assert refused.json()["detail"].startswith(expected), refused.json()["detail"]
    assert (await client.get("/shops/ed-passato/closures")).json()["total"] == 0, "nothing was stored"

    # begun yesterday and ending today: still to be seen (and withdrawn) among the upcoming ones
    running = {"from": str(yesterday), "to": str(today), "reason": "Malattia"}
    declared = await client.post("/shops/ed-passato/closures", json=running, headers=keeper)
    assert declared.status_code == 201, declared.text

    later = {"from": str(today), "to": str(today + timedelta(days=2)), "reason": "Inventario"}
    for language, words in (
        ("it", "Questi giorni si sovrappongono a una chiusura già dichiarata"),
        ("en", "These days overlap a closure already declared"),
    ):
        conflict = await client.post(
            "/shops/ed-passato/closures", json=later, headers={**keeper, "Accept-Language": language}
        )
        assert conflict.status_code == 409, conflict.text
        detail = conflict.json()["detail"]
        assert detail.startswith(f"{words} ({days_text(yesterday, today, language)})"), detail
        assert declared.json()["id"] not in detail, "the closure's internal id is not for the shopkeeper"
        assert (conflict.json()["closure"], conflict.json()["from"], conflict.json()["to"]) == (
            declared.json()["id"],
            str(yesterday),
            str(today),
        )


def test_days_are_written_as_people_write_them() -> None:
    assert days_text(date(2026, 12, 8), date(2026, 12, 8), "it") == "8 dicembre 2026"
    assert days_text(date(2026, 12, 8), date(2026, 12, 10), "en") == "8\u201310 December 2026"
    assert days_text(date(2026, 11, 28), date(2026, 12, 3), "it") == "28 novembre \u2013 3 dicembre 2026"
    assert days_text(date(2026, 12, 28), date(2027, 1, 3), "en") == "28 December 2026 \u2013 3 January 2027"


def closure(first: date, last: date, shop_id: str = "ed-1") -> Closure:
    return Closure.declare(closure_id="cl-1", shop_id=shop_id, first=first, last=last, reason="x", actor="k", now=NOW)


def test_a_closure_ends_on_or_after_its_first_day() -> None:
    assert closure(date(2026, 8, 10), date(2026, 8, 10)).covers(date(2026, 8, 10))
    with pytest.raises(InvalidInput) as backwards:
        closure(date(2026, 8, 11), date(2026, 8, 10))
    assert backwards.value.field == "body.to"


def test_an_evening_that_opened_on_a_closed_day_does_not_run_past_its_midnight() -> None:
    # open every evening 22:00-02:00; closed on Wednesday 2026-12-09 only
    hours = WeeklyHours.of([(d, "22:00", "02:00") for d in range(7)])
    calendar = ClosureCalendar([closure(date(2026, 12, 9), date(2026, 12, 9))])

    def open_at(local: datetime) -> bool:
        opened = hours.opened_days_ago(week_minute(local))
        return opened is not None and not calendar.keeps_closed("ed-1", local.date(), opened)

    assert open_at(datetime(2026, 12, 8, 23, 0)), "Tuesday evening"
    assert not open_at(datetime(2026, 12, 9, 1, 0)), "on the closed day, even Tuesday's evening stops at midnight"
    assert not open_at(datetime(2026, 12, 9, 23, 0)), "Wednesday evening"
    assert not open_at(datetime(2026, 12, 10, 1, 0)), "Wednesday's evening past midnight"
    assert open_at(datetime(2026, 12, 10, 23, 0)), "Thursday evening"
    assert not calendar.keeps_closed("ed-2", date(2026, 12, 9), 0), "another shop"


def test_the_opening_day_of_an_interval_is_known_across_the_week() -> None:
    hours = WeeklyHours.of([(6, "23:00", "01:00"), (2, "10:00", "10:00")])
    monday_0030 = week_minute(datetime(2026, 12, 7, 0, 30))
    assert hours.opened_days_ago(monday_0030) == 1, "Sunday night into Monday"
    assert hours.opened_days_ago(week_minute(datetime(2026, 12, 9, 11, 0))) == 0, "Wednesday's 24 hours"
    assert hours.opened_days_ago(week_minute(datetime(2026, 12, 10, 9, 0))) == 1, "…still open Thursday morning"
    assert hours.opened_days_ago(week_minute(datetime(2026, 12, 10, 10, 0))) is None
    midnight = WeeklyHours.of([(0, "00:00", "06:00")])
    assert midnight.opened_days_ago(week_minute(datetime(2026, 12, 7, 1, 0))) == 0, "opened at Monday 00:00"
