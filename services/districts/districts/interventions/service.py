"""Use cases of the interventions: register one (with its event), list them, measure their impact."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from districts.geography.store import GeographyStore
from districts.interventions.domain import (
    Impact,
    Intervention,
    Kind,
    Samples,
    Target,
    TargetType,
    Windows,
    impact,
    mean,
    most_similar,
    new_intervention,
    windows,
)
from districts.interventions.events import InterventionRegistered, InterventionTarget
from districts.interventions.store import InterventionStore
from districts.projection.domain import (
    NUMERIC_KPIS,
    Entity,
    EntityType,
    area_of,
    district_key,
    entity_id,
    nil_key,
    unknown_metric,
)
from districts.projection.service import ProjectionStates
from districts.projection.store import ProjectionStore
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork

PAGE = 500


@dataclass(frozen=True)
class InterventionsService:
    store: InterventionStore
    outbox: Outbox
    geography: GeographyStore
    projections: ProjectionStore
    states: ProjectionStates
    clock: Callable[[], datetime] = utcnow

    async def register(
        self,
        code: str,
        title: str,
        kind: Kind,
        target: Target,
        started_at: datetime,
        comparison: list[str],
    ) -> Intervention:
        intervention = new_intervention(code, title, kind, target, started_at, comparison, self.clock())
        if target.type is TargetType.DISTRICT and await self.geography.district(target.id) is None:
            raise InvalidInput(
                "body.target.id", Said(f"non esiste il distretto {target.id!r}", f"no district {target.id!r}")
            )
        if target.type is TargetType.NIL and await self.geography.nil(int(target.id)) is None:
            raise InvalidInput("body.target.id", Said(f"non esiste il NIL {target.id}", f"no NIL {target.id}"))
        for i, other in enumerate(intervention.comparison):
            if await self.geography.district(other) is None:
                raise InvalidInput(
                    f"body.comparison.{i}", Said(f"non esiste il distretto {other!r}", f"no district {other!r}")
                )

        async def work(uow: UnitOfWork) -> Intervention:
            await self.store.add(intervention, uow.session)
            uow.emit(
                InterventionRegistered(
                    code=intervention.code,
                    title=intervention.title,
                    kind=intervention.kind.value,
                    target=InterventionTarget(type=target.type.value, id=target.id),
                    started_at=intervention.started_at,
                    comparison=list(intervention.comparison),
                    at=intervention.created_at,
                )
            )
            return intervention

        return await self.outbox.run(work)

    async def get(self, code: str) -> Intervention:
        found = await self.store.get(code)
        if found is None:
            raise NotFound(Said(f"non esiste l'intervento {code!r}", f"no intervention {code!r}"))
        return found

    async def list(self, limit: int, offset: int) -> tuple[list[Intervention], int]:
        return await self.store.list(limit, offset)

    async def all(self) -> list[Intervention]:
        """Every intervention, oldest start first, read a page at a time."""
        found: list[Intervention] = []
        while True:
            page, total = await self.store.list(PAGE, len(found))
            found += page
            if not page or len(found) >= total:
                return found

    async def _measured_area(self, target: Target) -> tuple[str, str | None]:
        """The area key whose series measures the target, and its district code if it is a district.

        A market is measured on the district it stands in (or, outside any district, on its NIL).
        """
        if target.type is TargetType.DISTRICT:
            return district_key(target.id), target.id
        if target.type is TargetType.NIL:
            return nil_key(int(target.id)), None
        state = await self.states.current()
        found = await self.projections.by_ids(state.active, [entity_id(EntityType.MARKET, target.id)])
        if found and found[0].districts:
            code = found[0].districts[0]
            return district_key(code), code
        if found and found[0].nil is not None:
            return nil_key(found[0].nil), None
        raise Conflict(unplaced_market(target.id, found[0] if found else None))

    async def _series(self, key: str, metric: str, w: Windows) -> Samples:
        return await self.projections.samples(key, metric, w.before_from, w.after_to)

    async def impact(self, code: str, metric: str, window_days: int) -> tuple[Intervention, Impact]:
        if metric not in NUMERIC_KPIS:
            raise InvalidInput("query.metric", unknown_metric())
        intervention = await self.get(code)
        w = windows(intervention.started_at, window_days)
        key, own_district = await self._measured_area(intervention.target)
        target = await self._series(key, metric, w)
        automatic = not intervention.comparison
        if automatic:
            others = [d.code for d in await self.geography.districts(with_perimeter=False) if d.code != own_district]
            candidates = {c: await self._series(district_key(c), metric, w) for c in others}
            levels = {c: mean(s, w.before_from, w.start).value for c, s in candidates.items()}
            level = mean(target, w.before_from, w.start).value
            group = {c: candidates[c] for c in most_similar(levels, level)}
        else:
            group = {c: await self._series(district_key(c), metric, w) for c in intervention.comparison}
        names = await self._names(key, group)
        return intervention, impact(metric, window_days, w, key, target, group, automatic, names)

    async def _names(self, key: str, comparison: Iterable[str]) -> dict[str, str]:
        """What people call the measured area and the comparison districts (for the impact's sentence)."""
        names: dict[str, str] = {}
        for code in comparison:
            district = await self.geography.district(code)
            names[code] = district.name if district else code
        code, nil_id = area_of(key)
        if code is not None:
            district = await self.geography.district(code)
            names[key] = district.name if district else code
        elif nil_id is not None:
            nil = await self.geography.nil(nil_id)
            names[key] = nil.name.title() if nil else key
        return names


def unplaced_market(market_id: str, market: Entity | None) -> Said:
    """Why a market cannot be measured yet, in words: it has not arrived, or it lies in no district
    and in no NIL of the geography (whose NIL the markets service named, when it did)."""
    if market is None:
        return Said(
            f"il mercato {market_id!r} non è ancora arrivato dal servizio dei mercati: riprovare tra poco",
            f"market {market_id!r} has not arrived from the markets service yet: try again shortly",
        )
    name = market.text("name") or market_id
    named = market.nil_name or (str(market.nil_hint) if market.nil_hint is not None else None)
    if named:
        return Said(
            f"il mercato {name} non sta in alcun distretto e il suo NIL ({named}) non è tra quelli caricati: "
            "caricare il perimetro del NIL per misurarlo",
            f"market {name} lies in no district and its NIL ({named}) is not among those loaded: "
            "load the NIL's perimeter to measure it",
        )
    return Said(
        f"il mercato {name} non sta in alcun distretto né in alcun NIL caricato: "
        "caricare i perimetri dei NIL per misurarlo",
        f"market {name} lies in no district and in no loaded NIL: load the NILs' perimeters to measure it",
    )
