"""Optimistic concurrency: which versions of a record a writer is prepared to change.

Every versioned record (a stall, a shop, a district…) carries an integer ``version`` that its
writes increment; a client names the version it read (``If-Match``, or ``version`` in a body) and
the write is refused with 412 when the record has moved on. This module is pure, so domain rules
and use cases can check a precondition without knowing HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import PreconditionFailed
from shared.i18n import Said


@dataclass(frozen=True)
class Precondition:
    """The versions a write may apply to: any (no precondition, or ``*``) or one of ``versions``."""

    versions: frozenset[int] | None = None
    source: str = "If-Match"

    @classmethod
    def any(cls) -> Precondition:
        return cls(None)

    @classmethod
    def exactly(cls, version: int, source: str = "version") -> Precondition:
        return cls(frozenset({version}), source)

    def and_version(self, version: int | None) -> Precondition:
        """Both this precondition and a ``version`` stated in a body must hold."""
        if version is None:
            return self
        if self.versions is None:
            return Precondition.exactly(version)
        return Precondition(self.versions & {version}, f"{self.source} and version")

    @property
    def is_any(self) -> bool:
        return self.versions is None

    def allows(self, version: int) -> bool:
        return self.versions is None or version in self.versions

    def check(self, current: int, what: Said) -> None:
        """Raise 412 naming ``what`` (``il banco 12`` / ``stall 12``) and its current version unless
        the write may apply to it."""
        if not self.allows(current):
            named = ", ".join(str(v) for v in sorted(self.versions or ()))
            raise PreconditionFailed(
                Said(
                    f"{self.source} non corrisponde: {what.it} è alla versione {current}, "
                    f"non {named or 'a una versione valida'}; rileggilo",
                    f"{self.source} does not match: {what.en} is at version {current}, "
                    f"not {named or 'no valid version'}; read it again",
                ),
                current_version=current,
                version=current,  # the record's field name, as markets has always answered it
            )
