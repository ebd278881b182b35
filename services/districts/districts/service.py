"""Use cases behind the API: district and NIL definitions, KPIs, thresholds, alerts, time series."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from districts.alerts import Thresholds
from districts.domain import NUMERIC_KPIS, Kpis
from districts.geography import GeometryError, parse_perimeter
from districts.projections import district_key, nil_key
from districts.refresher import Refresher
from districts.schemas import (
    AlertOut,
    DistrictCreate,
    DistrictDetail,
    DistrictOut,
    DistrictUpdate,
    NilDetail,
    NilIn,
    NilOut,
    Perimeter,
    Point,
    TimeSeries,
)
from districts.store import DistrictStore
from districts.vitality import Vitality
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.events import utcnow
from shared.mongo import Document, Mongo

RESERVED_CODES = frozenset({"rebuild"})
DEFAULT_SPAN = timedelta(hours=24)
LONGEST_SPAN = timedelta(days=92)


def _check_perimeter(perimeter: Perimeter) -> dict[str, Any]:
    raw = perimeter.model_dump()
    try:
        parse_perimeter(raw["type"], raw["coordinates"])
    except GeometryError as exc:
        raise InvalidInput(f"body.perimeter{exc.where}", exc.message) from exc
    return raw


def _figures(area: Document | None) -> tuple[Kpis, Vitality]:
    if area is None:
        return Kpis(), Vitality(index=None, components=[])
    return Kpis.model_validate(area["kpis"]), Vitality.model_validate(area["vitality"])


def _aware(at: datetime) -> datetime:
    """A time given without an offset is read as UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def alert_view(doc: Document) -> AlertOut:
    return AlertOut.model_validate({**doc, "id": doc["_id"]})


class DistrictsService:
    def __init__(self, store: DistrictStore, mongo: Mongo, refresher: Refresher) -> None:
        self.store = store
        self.mongo = mongo
        self.refresher = refresher

    # ------------------------------------------------------------ districts

    async def _views(self, docs: list[Document]) -> list[DistrictOut]:
        state = await self.store.state()
        codes = [d["_id"] for d in docs]
        areas = await self.store.areas(state.active, [district_key(c) for c in codes])
        alerts: dict[str, list[AlertOut]] = {code: [] for code in codes}
        for alert in await self.store.open_alerts(codes):
            alerts[alert["district"]].append(alert_view(alert))
        views = []
        for doc in docs:
            kpis, vitality = _figures(areas.get(district_key(doc["_id"])))
            fields = {"code": doc["_id"], "kpis": kpis, "vitality": vitality, "open_alerts": alerts[doc["_id"]]}
            model = DistrictDetail if "perimeter" in doc else DistrictOut
            views.append(model.model_validate({**doc, **fields}))
        return views

    async def list_districts(self, limit: int, offset: int) -> tuple[list[DistrictOut], int]:
        docs = await self.store.districts(limit=limit, offset=offset, with_perimeter=False)
        return await self._views(docs), await self.store.count_districts()

    async def all_districts(self) -> list[DistrictDetail]:
        views = await self._views(await self.store.districts())
        return [v for v in views if isinstance(v, DistrictDetail)]

    async def district(self, code: str) -> DistrictDetail:
        doc = await self.store.district(code)
        if doc is None:
            raise NotFound(f"no district {code!r}")
        view = (await self._views([doc]))[0]
        assert isinstance(view, DistrictDetail)
        return view

    async def create_district(self, data: DistrictCreate) -> DistrictDetail:
        if data.code in RESERVED_CODES:
            raise InvalidInput("body.code", f"{data.code!r} is reserved")
        perimeter = _check_perimeter(data.perimeter)
        now = utcnow()
        doc = {"_id": data.code, "name": data.name, "perimeter": perimeter, "version": 1, "updated_at": now}

        async def work(session: AsyncClientSession) -> None:
            if await self.store.district(data.code, session) is not None:
                raise Conflict(f"district {data.code!r} exists; change it with PUT /districts/{data.code}")
            await self.store.save_district(doc, expected_version=None, session=session)
            await self.store.record_geography_change(f"district:{data.code}", session)

        await self.mongo.transaction(work)
        self.refresher.request([data.code])
        return await self.district(data.code)

    async def update_district(self, code: str, data: DistrictUpdate, if_match: int | None) -> DistrictDetail:
        perimeter = _check_perimeter(data.perimeter)

        async def work(session: AsyncClientSession) -> None:
            current = await self.store.district(code, session)
            if current is None:
                raise NotFound(f"no district {code!r}")
            if if_match is not None and if_match != current["version"]:
                raise PreconditionFailed(f"district {code!r} is at version {current['version']}, not {if_match}")
            doc = {**current, "name": data.name, "perimeter": perimeter, "updated_at": utcnow()}
            doc["version"] = current["version"] + 1
            await self.store.save_district(doc, expected_version=current["version"], session=session)
            if perimeter != current["perimeter"]:
                await self.store.record_geography_change(f"district:{code}", session)

        await self.mongo.transaction(work)
        self.refresher.request([code])
        return await self.district(code)

    async def _require(self, code: str) -> None:
        if await self.store.district(code) is None:
            raise NotFound(f"no district {code!r}")

    async def thresholds(self, code: str) -> Thresholds:
        await self._require(code)
        return Thresholds.model_validate(await self.store.thresholds(code) or {})

    async def set_thresholds(self, code: str, thresholds: Thresholds) -> Thresholds:
        await self._require(code)
        await self.store.save_thresholds(code, thresholds.model_dump())
        self.refresher.request([code])
        return thresholds

    async def alerts(self, code: str, state: str | None, limit: int, offset: int) -> tuple[list[AlertOut], int]:
        await self._require(code)
        docs, total = await self.store.alerts(code, state, limit, offset)
        return [alert_view(d) for d in docs], total

    async def timeseries(self, code: str, metric: str, start: datetime | None, end: datetime | None) -> TimeSeries:
        if metric not in NUMERIC_KPIS:
            raise InvalidInput("query.metric", f"unknown metric; one of {', '.join(NUMERIC_KPIS)}")
        await self._require(code)
        end = _aware(end) if end else utcnow()
        start = _aware(start) if start else end - DEFAULT_SPAN
        if start >= end:
            raise InvalidInput("query.from", "must be before 'to'")
        if end - start > LONGEST_SPAN:
            raise InvalidInput("query.from", f"the range may span at most {LONGEST_SPAN.days} days")
        first_hour = start.replace(minute=0, second=0, microsecond=0)
        points = [
            Point(at=sample["at"], value=sample.get(metric))
            for bucket in await self.store.buckets(code, first_hour, end)
            for sample in bucket["samples"]
            if start <= sample["at"] <= end
        ]
        return TimeSeries(district=code, metric=metric, start=start, end=end, points=points)

    # ------------------------------------------------------------ NILs

    async def _nil_views(self, docs: Iterable[Document]) -> list[NilOut]:
        docs = list(docs)
        state = await self.store.state()
        areas = await self.store.areas(state.active, [nil_key(d["_id"]) for d in docs])
        views = []
        for doc in docs:
            kpis, vitality = _figures(areas.get(nil_key(doc["_id"])))
            model = NilDetail if "perimeter" in doc else NilOut
            views.append(model.model_validate({**doc, "id": doc["_id"], "kpis": kpis, "vitality": vitality}))
        return views

    async def list_nils(self, limit: int, offset: int) -> tuple[list[NilOut], int]:
        docs = await self.store.nils(limit=limit, offset=offset, with_perimeter=False)
        return await self._nil_views(docs), await self.store.count_nils()

    async def nil(self, nil_id: int) -> NilDetail:
        doc = await self.store.nil(nil_id)
        if doc is None:
            raise NotFound(f"no NIL {nil_id}")
        view = (await self._nil_views([doc]))[0]
        assert isinstance(view, NilDetail)
        return view

    async def save_nil(self, data: NilIn) -> tuple[NilDetail, bool]:
        """Create or replace a NIL; True if it was new."""
        perimeter = _check_perimeter(data.perimeter)
        doc = {"_id": data.id, **data.model_dump(exclude={"id", "perimeter"}), "perimeter": perimeter}

        async def work(session: AsyncClientSession) -> bool:
            current = await self.store.nil(data.id, session)
            if current is not None and {k: v for k, v in current.items() if k != "updated_at"} == doc:
                return False
            await self.store.save_nil({**doc, "updated_at": utcnow()}, session)
            await self.store.record_geography_change(f"nil:{data.id}", session)
            return current is None

        created = await self.mongo.transaction(work)
        return await self.nil(data.id), created
