"""Shop lifecycle, historic recognition and offered services: the rules without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from shops.offers.domain import Offer
from shops.register.domain import (
    Application,
    RecognitionState,
    Registry,
    Shop,
    ShopKind,
    ShopStatus,
    generated_shop_id,
)

from shared.errors import Conflict, InvalidInput
from shared.places import Location, OpeningInterval

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def a_shop(**changes: object) -> Shop:
    registry = Registry(kind=ShopKind.SHOP, name="Drogheria Test", location=Location(lon=9.19, lat=45.48))
    return replace(Shop.register("drogheria-test", registry, ShopStatus.ACTIVE, NOW), **changes)


def application(founded: int) -> Application:
    return Application(founding_year=founded, trade="Drogheria", continuity="Same trade, same shop, same family")


def test_status_changes_version_and_refuses_impossible_dates() -> None:
    shop = a_shop()
    assert shop.change_status(ShopStatus.ACTIVE, NOW, None, NOW) is None, "no change, no new version"
    closed = shop.change_status(ShopStatus.CLOSED, NOW - timedelta(days=2), "retirement", NOW)
    assert closed is not None
    assert (closed.status, closed.version, closed.status_note) == (ShopStatus.CLOSED, 2, "retirement")
    with pytest.raises(InvalidInput, match="data futura"):
        shop.change_status(ShopStatus.CLOSED, NOW + timedelta(hours=1), None, NOW)
    with pytest.raises(InvalidInput, match="cambiato l'ultima volta"):
        closed.change_status(ShopStatus.ACTIVE, NOW - timedelta(days=3), None, NOW)


def test_revise_changes_only_when_the_registry_differs() -> None:
    shop = a_shop()
    assert shop.revise(shop.registry(), NOW) is None
    renamed = shop.revise(replace(shop.registry(), name="Drogheria Nuova"), NOW)
    assert renamed is not None and renamed.name == "Drogheria Nuova" and renamed.version == 2
    with pytest.raises(InvalidInput, match="nel futuro"):
        shop.revise(replace(shop.registry(), year_founded=2030), NOW)


def test_recognition_approved_at_fifty_years_by_todays_date() -> None:
    applied = a_shop().apply_for_recognition(application(1976), "keeper", NOW)
    assert applied.recognition is not None and applied.recognition.state is RecognitionState.PENDING
    approved = applied.decide_recognition(True, None, "office", NOW)
    assert approved.kind is ShopKind.HISTORIC and approved.year_founded == 1976
    assert approved.historic_recognised_at == NOW and approved.recognition is not None
    assert approved.recognition.state is RecognitionState.APPROVED and approved.version == 3
    with pytest.raises(Conflict, match="già una bottega storica"):
        approved.apply_for_recognition(application(1900), "keeper", NOW)


def test_recognition_under_fifty_years_is_refused_with_the_reason() -> None:
    applied = a_shop().apply_for_recognition(application(1977), "keeper", NOW)
    with pytest.raises(Conflict, match=r"fondato nel 1977, 49 anni fa.*approvata dal 2027"):
        applied.decide_recognition(True, None, "office", NOW)
    with pytest.raises(InvalidInput, match="motivo"):
        applied.decide_recognition(False, None, "office", NOW)
    rejected = applied.decide_recognition(False, "Not yet 50 years", "office", NOW)
    assert rejected.recognition is not None and rejected.recognition.state is RecognitionState.REJECTED
    assert rejected.kind is ShopKind.SHOP
    with pytest.raises(Conflict, match="non c'è una domanda in attesa"):
        rejected.decide_recognition(True, None, "office", NOW)
    again = rejected.apply_for_recognition(application(1970), "keeper", NOW)
    assert again.recognition is not None and again.recognition.state is RecognitionState.PENDING


def test_recognition_refuses_double_applications_closed_shops_and_future_years() -> None:
    applied = a_shop().apply_for_recognition(application(1950), "keeper", NOW)
    with pytest.raises(Conflict, match="attende già"):
        applied.apply_for_recognition(application(1950), "keeper", NOW)
    with pytest.raises(Conflict, match="negozio chiuso"):
        a_shop(status=ShopStatus.CLOSED).apply_for_recognition(application(1950), "keeper", NOW)
    with pytest.raises(InvalidInput, match="nel futuro"):
        a_shop().apply_for_recognition(application(2027), "keeper", NOW)


def hours(*triples: tuple[int, str, str]) -> tuple[OpeningInterval, ...]:
    return tuple(OpeningInterval(day=d, opens=o, closes=c) for d, o, c in triples)


def test_offer_needs_a_catalogue_service_valid_hours_and_an_open_shop() -> None:
    shop = a_shop()

    def create(service: str, weekly: tuple[OpeningInterval, ...], target: Shop = shop) -> Offer:
        return Offer.create(offer_id="sv-1", shop=target, code=service, hours=weekly, note="", actor="keeper", now=NOW)

    offer = create("ritiro_pacchi", hours((4, "22:00", "24:00"), (0, "09:00", "12:00")))
    assert [(h.day, h.opens, h.closes) for h in offer.hours] == [(0, "09:00", "12:00"), (4, "22:00", "00:00")]
    assert offer.weekly().weekly_minutes == 300
    with pytest.raises(InvalidInput, match="catalogo") as bad_service:
        create("massaggi", hours((0, "09:00", "12:00")))
    assert bad_service.value.extra["errors"][0]["field"] == "body.service"
    with pytest.raises(InvalidInput, match="si sovrappone"):
        create("ritiro_pacchi", hours((0, "09:00", "12:00"), (0, "11:00", "13:00")))
    with pytest.raises(InvalidInput, match="almeno una"):
        create("ritiro_pacchi", ())
    with pytest.raises(Conflict, match="negozio chiuso"):
        create("ritiro_pacchi", hours((0, "09:00", "12:00")), a_shop(status=ShopStatus.CLOSED))


def test_new_hours_that_open_and_close_at_one_time_are_refused_but_the_whole_day() -> None:
    shop = a_shop()

    def create(*weekly: tuple[int, str, str]) -> Offer:
        return Offer.create(
            offer_id="sv-1", shop=shop, code="ritiro_pacchi", hours=hours(*weekly), note="", actor="k", now=NOW
        )

    with pytest.raises(InvalidInput, match=r"^Lunedì 09:00-09:00: apre e chiude alla stessa ora") as same:
        create((0, "09:00", "09:00"), (1, "09:00", "13:00"))
    assert same.value.field == "body.hours"
    assert same.value.said is not None and "to stay open all day, give 00:00-00:00" in same.value.said.en
    for whole_day in ((2, "00:00", "00:00"), (2, "00:00", "24:00")):
        offer = create(whole_day)
        assert offer.weekly().weekly_minutes == 24 * 60 and offer.hours[0].closes == "00:00"
    stored = create((0, "09:00", "13:00"))
    legacy = replace(stored, hours=(OpeningInterval(day=0, opens="09:00", closes="09:00"),))
    assert legacy.weekly().weekly_minutes == 24 * 60, "hours stored before the rule still read as 24 hours"
    with pytest.raises(InvalidInput, match="stessa ora"):
        legacy.revise(legacy.hours, "nota", NOW)


def test_generated_ids_are_slugs_of_the_name() -> None:
    assert generated_shop_id("Caffè Città Studi & C.", "a1b2c3") == "caffe-citta-studi-c-a1b2c3"
    assert generated_shop_id("北京", "a1b2c3") == "shop-a1b2c3"
