"""Use cases of the geography: define and change districts, import NILs.

Every change that moves a border is recorded with it, in one transaction, so the projections place
businesses and markets again; ``on_change`` asks for the districts' figures to be recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession

from districts.geography.domain import RESERVED_CODES, District, GeometryError, Nil, Perimeter, parse_perimeter
from districts.geography.store import GeographyStore
from shared.errors import Conflict, InvalidInput
from shared.events import utcnow
from shared.i18n import Said
from shared.mongo import Mongo
from shared.versions import Precondition

ChangeListener = Callable[[Iterable[str]], None]


def checked(perimeter: Perimeter) -> Perimeter:
    """The perimeter if it is a usable polygon; otherwise 422 naming where it breaks."""
    try:
        parse_perimeter(perimeter["type"], perimeter["coordinates"])
    except GeometryError as exc:
        raise InvalidInput(f"body.perimeter{exc.where}", exc.message) from exc
    return perimeter


@dataclass(frozen=True)
class GeographyService:
    store: GeographyStore
    mongo: Mongo
    on_change: ChangeListener

    async def require_district(self, code: str) -> District:
        return await self.store.require_district(code)

    async def create_district(self, code: str, name: str, perimeter: Perimeter) -> District:
        if code in RESERVED_CODES:
            raise InvalidInput("body.code", Said(f"{code!r} è un codice riservato", f"{code!r} is reserved"))
        district = District(code, name, 1, utcnow(), checked(perimeter))

        async def work(session: AsyncClientSession) -> None:
            if await self.store.district(code, session) is not None:
                raise Conflict(
                    Said(
                        f"il distretto {code!r} esiste già; modificalo con PUT /districts/{code}",
                        f"district {code!r} exists; change it with PUT /districts/{code}",
                    )
                )
            await self.store.save_district(district, expected_version=None, session=session)
            await self.store.record_change(f"district:{code}", session)

        await self.mongo.transaction(work)
        self.on_change([code])
        return district

    async def update_district(self, code: str, name: str, perimeter: Perimeter, expected: Precondition) -> District:
        perimeter = checked(perimeter)

        async def work(session: AsyncClientSession) -> District:
            current = await self.store.require_district(code, session)
            expected.check(current.version, Said(f"il distretto {code!r}", f"district {code!r}"))
            changed = District(code, name, current.version + 1, utcnow(), perimeter)
            await self.store.save_district(changed, expected_version=current.version, session=session)
            if perimeter != current.perimeter:
                await self.store.record_change(f"district:{code}", session)
            return changed

        district = await self.mongo.transaction(work)
        self.on_change([code])
        return district

    async def require_nil(self, nil_id: int) -> Nil:
        return await self.store.require_nil(nil_id)

    async def save_nil(self, nil: Nil) -> bool:
        """Create or replace a NIL; True if it was new."""
        checked(nil.perimeter or {})

        async def work(session: AsyncClientSession) -> bool:
            current = await self.store.nil(nil.id, session)
            if current is not None and current.same_as(nil):
                return False
            await self.store.save_nil(
                Nil(nil.id, nil.name, nil.population, nil.area_km2, utcnow(), nil.perimeter), session
            )
            await self.store.record_change(f"nil:{nil.id}", session)
            return current is None

        return await self.mongo.transaction(work)
