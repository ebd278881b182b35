"""What a route that writes declares, stated once so that every API documents its writes alike.

``@router.post(path, **CREATION, summary=…)``: the route creates a resource. A retry with the same
``Idempotency-Key`` gets the first answer (:data:`~shared.web.idempotency.IDEMPOTENT`), success is
201 and a change that breaks a rule is 409 (:data:`~shared.web.problems.CONFLICT`).
``**ACTION``: the route acts on a resource that exists (award, renew, assign…): replayed the same way,
answering 200 or 409.
"""

from __future__ import annotations

from typing import Any

from shared.web.idempotency import IDEMPOTENT
from shared.web.problems import CONFLICT

ACTION: dict[str, Any] = {"dependencies": [IDEMPOTENT], "responses": CONFLICT}
CREATION: dict[str, Any] = {**ACTION, "status_code": 201}
