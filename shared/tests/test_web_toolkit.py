"""The shared HTTP toolkit: If-Match by RFC 9110, version preconditions, bounded pages, problem+json."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
import pytest
from fastapi import Body, FastAPI, Response
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, Json, TypeAdapter, ValidationError, field_validator

from shared.errors import Conflict, InvalidInput, PreconditionFailed
from shared.i18n import Said
from shared.retry import at_most, until_done
from shared.versions import Precondition
from shared.web.etag import IfMatch, parse_if_match, set_etag
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import MOMENT_PATTERN, Day, Moment, Slug
from shared.web.problems import PROBLEM_JSON, install_error_handlers
from shared.web.routes import ACTION, CREATION
from shared.web.shapes import shape_message


@pytest.mark.parametrize(
    ("header", "current", "allowed"),
    [
        (None, 7, True),
        ("*", 7, True),
        (" * ", 7, True),
        ('"7"', 7, True),
        ('"6"', 7, False),
        ('"6", "7"', 7, True),
        ('"6","7"', 7, True),
        ('W/"7"', 7, False),  # weak tags never match under the strong comparison
        ('W/"6", "7"', 7, True),
        ("7", 7, False),  # not an entity tag
        ('"7', 7, False),
        ('"7" "8"', 7, False),
        ('"abc"', 7, False),
        ('""', 7, False),
        ('"99999999999999999999"', 7, False),
    ],
)
def test_if_match_follows_rfc_9110(header: str | None, current: int, allowed: bool) -> None:
    assert parse_if_match(header).allows(current) is allowed


def test_precondition_names_the_current_version_and_combines_with_a_body_version() -> None:
    stall_3, x = Said("il banco 3", "stall 3"), Said("x", "x")
    with pytest.raises(PreconditionFailed) as err:
        parse_if_match('"4"').check(5, stall_3)
    assert "If-Match does not match: stall 3 is at version 5, not 4" in err.value.detail_in("en")
    assert "If-Match non corrisponde: il banco 3 è alla versione 5, non 4" in err.value.detail_in("it")
    assert err.value.extra["current_version"] == 5
    Precondition.any().and_version(None).check(9, x)
    Precondition.any().and_version(9).check(9, x)
    with pytest.raises(PreconditionFailed) as err:
        Precondition.any().and_version(8).check(9, x)
    assert "version does not match" in err.value.detail_in("en")
    with pytest.raises(PreconditionFailed):
        parse_if_match('"9"').and_version(8).check(9, x)


def test_a_page_shows_each_item_found_and_write_routes_declare_their_answers() -> None:
    assert page_of(([1, 2], 7), lambda n: f"#{n}", 2, 4) == Page[str](items=["#1", "#2"], total=7, limit=2, offset=4)

    app = FastAPI()

    @app.post("/things", **CREATION)
    async def create() -> dict[str, str]:
        return {}

    @app.post("/things/{thing}/renew", **ACTION)
    async def renew(thing: str) -> dict[str, str]:
        return {}

    paths = app.openapi()["paths"]
    created, acted = paths["/things"]["post"], paths["/things/{thing}/renew"]["post"]
    assert {"201", "409"} <= created["responses"].keys() and "200" not in created["responses"]
    assert {"200", "409"} <= acted["responses"].keys()
    for operation in (created, acted):
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/things")
    async def things(limit: Limit = 50, offset: Offset = 0) -> Page[int]:
        return Page[int].of(list(range(offset, offset + limit))[:3], total=3, limit=limit, offset=offset)

    @app.put("/things/1")
    async def put(response: Response, if_match: IfMatch, name: Annotated[str, Body(embed=True)]) -> dict[str, str]:
        if name == "taken":
            raise Conflict("the name is taken", name=name)
        if name == "":
            raise InvalidInput("body.name", "must not be empty")
        if_match.check(2, Said("la cosa 1", "thing 1"))
        set_etag(response, 3)
        return {"name": name}

    return app


async def test_routes_use_the_toolkit_and_every_refusal_is_a_problem_document() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        page = (await client.get("/things", params={"limit": 2, "offset": 1})).json()
        assert page == {"items": [1, 2], "total": 3, "limit": 2, "offset": 1}
        for params, field in (({"limit": 501}, "query.limit"), ({"offset": 1_000_001}, "query.offset")):
            refused = await client.get("/things", params=params)
            assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM_JSON
            assert refused.json()["errors"][0]["field"] == field

        ok = await client.put("/things/1", json={"name": "a"}, headers={"If-Match": '"2"'})
        assert ok.status_code == 200 and ok.headers["etag"] == '"3"'
        stale = await client.put("/things/1", json={"name": "a"}, headers={"If-Match": 'W/"2"'})
        assert stale.status_code == 412 and stale.json()["current_version"] == 2
        conflict = await client.put("/things/1", json={"name": "taken"})
        assert conflict.status_code == 409 and conflict.json()["name"] == "taken"
        invalid = await client.put("/things/1", json={"name": ""})
        assert invalid.status_code == 422 and invalid.json()["errors"] == [
            {"field": "body.name", "message": "must not be empty"}
        ]
        assert invalid.json()["type"].endswith("/invalid-input")


def _params_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/markets/{market}/days/{day}")
    async def day(market: Slug, day: Day, since: Moment | None = None) -> dict[str, str | None]:
        return {"market": market, "day": day, "since": since.isoformat() if since else None}

    return app


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/markets/Wagner/days/2026-12-05", {}, "path.market"),
        ("/markets/wag ner/days/2026-12-05", {}, "path.market"),
        ("/markets/wagner/days/5-12-2026", {}, "path.day"),
        ("/markets/wagner/days/2026-12-05", {"since": "1700000000"}, "query.since"),
        ("/markets/wagner/days/2026-12-05", {"since": "2026-12-05"}, "query.since"),
        ("/markets/wagner/days/2026-12-05", {"since": "2026-13-05T10:00"}, "query.since"),
    ],
)
async def test_parameters_of_the_wrong_shape_are_refused_naming_them(
    path: str, query: dict[str, str], field: str
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_params_app()), base_url="http://t") as client:
        refused = await client.get(path, params=query)
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in refused.json()["errors"]] == [field]


async def test_a_problem_names_the_path_as_the_client_sent_it() -> None:
    """``instance`` is a URI reference: the path still percent-encoded, a tab or a line break kept, no query."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_params_app()), base_url="http://t") as client:
        refused = await client.get("/markets/%09wagner%0D%C2%BE/days/2026-12-05", params={"since": "x"})
    assert refused.status_code == 422
    assert refused.json()["instance"] == "/markets/%09wagner%0D%C2%BE/days/2026-12-05"


async def test_parameters_of_the_right_shape_are_read_and_documented() -> None:
    app = _params_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        plain = await client.get("/markets/porta-genova/days/2026-12-05", params={"since": "2026-12-05T10:00"})
        offset = await client.get("/markets/wagner/days/2026-12-05", params={"since": "2026-12-05T10:00:00.5+01:00"})
    assert plain.json() == {"market": "porta-genova", "day": "2026-12-05", "since": "2026-12-05T10:00:00"}
    assert offset.json()["since"] == "2026-12-05T10:00:00.500000+01:00"
    parameters = {
        p["name"]: p["schema"] for p in app.openapi()["paths"]["/markets/{market}/days/{day}"]["get"]["parameters"]
    }
    assert parameters["market"]["pattern"] == "^[a-z0-9]+(?:-[a-z0-9]+)*$"
    assert parameters["day"]["pattern"] == r"^\d{4}-\d{2}-\d{2}$"
    # documented as a pattern (not format: date-time, which would promise an offset the route does not need)
    assert {"type": "string", "pattern": MOMENT_PATTERN}.items() <= parameters["since"]["anyOf"][0].items()


async def test_retries_until_done_and_at_most_the_budget() -> None:
    calls = 0
    async for attempt in until_done(ValueError, "flaky", first_wait_s=0.001):
        with attempt:
            calls += 1
            if calls < 4:
                raise ValueError("not yet")
    assert calls == 4

    calls = 0
    with pytest.raises(ValueError, match="always"):
        async for attempt in at_most(3, ValueError, "hopeless", first_wait_s=0.001):
            with attempt:
                calls += 1
                raise ValueError("always")
    assert calls == 3

    calls = 0
    with pytest.raises(KeyError):
        async for attempt in until_done(ValueError, "wrong kind", first_wait_s=0.001):
            with attempt:
                calls += 1
                raise KeyError("not retried")
    assert calls == 1


class StallStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    VACANT = "vacant"


class _Booking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=5)
    people: int = Field(ge=1, le=80)
    kind: Literal["market", "concert"]
    day: date
    stalls: list[str] = Field(max_length=2)

    @field_validator("stalls")
    @classmethod
    def _distinct(cls, stalls: list[str]) -> list[str]:
        if len(set(stalls)) != len(stalls):
            raise ValueError(Said("non deve ripetere un banco", "must not repeat a stall"))
        return stalls


def _shapes_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/bookings")
    async def book(booking: _Booking) -> dict[str, str]:
        return {"title": booking.title}

    return app


BAD_BOOKING = {"title": "Festa di via", "people": "tanti", "kind": "fair", "day": "2026-02-30", "x": 1}


async def test_shape_errors_are_italian_by_default_and_english_on_request() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_shapes_app()), base_url="http://t") as client:
        italian = await client.post("/bookings", json=BAD_BOOKING)
        english = await client.post("/bookings", json=BAD_BOOKING, headers={"Accept-Language": "en-GB,en;q=0.9"})
        repeated = await client.post("/bookings", json={**BAD_BOOKING, "stalls": ["3", "3"]})
        repeated_en = await client.post(
            "/bookings", json={**BAD_BOOKING, "stalls": ["3", "3"]}, headers={"Accept-Language": "en"}
        )
        too_many = await client.post("/bookings", json={**BAD_BOOKING, "people": 81, "stalls": ["1", "2", "3"]})
    assert italian.status_code == english.status_code == 422
    assert (italian.headers["content-language"], english.headers["content-language"]) == ("it", "en")
    assert (italian.json()["title"], english.json()["title"]) == ("Dati non validi", "Invalid input")
    assert italian.json()["type"] == english.json()["type"] and italian.json()["type"].endswith("/invalid-input")
    assert {e["field"]: e["message"] for e in italian.json()["errors"]} == {
        "body.title": "può avere al massimo 5 caratteri",
        "body.people": "deve essere un numero intero",
        "body.kind": "deve essere 'market' o 'concert'",
        "body.day": "deve essere una data valida, scritta AAAA-MM-GG",
        "body.stalls": "campo obbligatorio",
        "body.x": "campo non previsto",
    }
    assert {e["field"]: e["message"] for e in english.json()["errors"]} == {
        "body.title": "String should have at most 5 characters",
        "body.people": "Input should be a valid integer, unable to parse string as an integer",
        "body.kind": "Input should be 'market' or 'concert'",
        "body.day": "Input should be a valid date or datetime, day value is outside expected range",
        "body.stalls": "Field required",
        "body.x": "Extra inputs are not permitted",
    }
    assert italian.json()["detail"].startswith("body.title: può avere al massimo 5 caratteri; ")
    assert {"field": "body.stalls", "message": "non deve ripetere un banco"} in repeated.json()["errors"]
    stalls_en = {"field": "body.stalls", "message": "Value error, must not repeat a stall"}
    assert stalls_en in repeated_en.json()["errors"]
    assert {e["field"]: e["message"] for e in too_many.json()["errors"]}.items() >= {
        ("body.people", "deve essere minore o uguale a 80"),
        ("body.stalls", "può avere al massimo 2 elementi"),
    }


async def test_the_frameworks_own_refusals_are_worded_in_the_callers_language() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_shapes_app()), base_url="http://t") as client:
        italian = await client.get("/nowhere")
        english = await client.get("/nowhere", headers={"Accept-Language": "en"})
        method = await client.get("/bookings", headers={"Accept-Language": "it-IT"})
    assert (italian.status_code, italian.json()["title"], italian.json()["detail"]) == (
        404,
        "Non trovato",
        "Non trovato",
    )
    assert (english.json()["title"], english.json()["detail"], english.json()["type"]) == (
        "Not found",
        "Not found",
        italian.json()["type"],
    )
    assert (method.status_code, method.json()["title"]) == (405, "Metodo non consentito")


@pytest.mark.parametrize(
    ("shape", "value", "italian"),
    [
        (Annotated[float, Field(gt=0.5)], 0.25, "deve essere maggiore di 0,5"),
        (Annotated[int, Field(ge=1)], 0, "deve essere maggiore o uguale a 1"),
        (Annotated[int, Field(lt=10)], 10, "deve essere minore di 10"),
        (Annotated[str, Field(min_length=3)], "ab", "deve avere almeno 3 caratteri"),
        (Annotated[str, Field(min_length=1)], "", "deve avere almeno 1 carattere"),
        (Annotated[list[int], Field(min_length=1)], [], "deve avere almeno 1 elemento"),
        (
            Annotated[str, Field(pattern=r"^[a-z]+$")],
            "A",
            "non ha la forma richiesta (deve corrispondere a '^[a-z]+$')",
        ),
        (bool, "forse", "deve essere vero o falso (true o false)"),
        (float, "tre", "deve essere un numero"),
        (datetime, "ieri", "deve essere una data e ora ISO 8601 valida, per esempio 2026-12-05T10:00:00+01:00"),
        (UUID, "x", "deve essere un UUID valido"),
        (AnyUrl, "not a url", "deve essere un indirizzo web (URL) valido"),
        (_Booking, [], "deve essere un oggetto JSON (tra graffe)"),
        (dict[str, int], 3, "deve essere un oggetto JSON (tra graffe)"),
        (list[int], "1,2", "deve essere un elenco (tra parentesi quadre)"),
        (StallStatus, "chiuso", "deve essere uno di questi valori: 'open', 'closed' o 'vacant'"),
        (Json[int], "{", "non è un JSON valido"),
        (Annotated[bytes, Field(max_length=1)], b"ab", "Data should have at most 1 byte"),
    ],
)
def test_each_common_shape_error_has_an_italian_sentence(shape: Any, value: Any, italian: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(shape).validate_python(value)
    error = caught.value.errors()[0]
    assert shape_message(error, "it") == italian
    assert shape_message(error, "en") == error["msg"], "English keeps pydantic's own sentence"
