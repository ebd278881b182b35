"""The service's layers keep their promises: pure domain, a wire contract apart from the domain."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from markets.concessions import domain as concessions_domain
from markets.concessions import events as concessions_events
from markets.stalls import domain, events

PACKAGE = Path(__file__).resolve().parents[1] / "markets"
SUBDOMAINS = sorted(p.parent.name for p in PACKAGE.glob("*/domain.py"))
IO_LIBRARIES = {"fastapi", "starlette", "pymongo", "bson", "motor", "aiokafka", "httpx", "uvicorn", "pydantic"}


def test_every_subdomain_has_a_domain_module() -> None:
    assert SUBDOMAINS == ["calls", "concessions", "spaces", "spunta", "stalls"]


def test_domain_modules_load_no_io_library() -> None:
    modules = ", ".join(f"markets.{name}.domain" for name in SUBDOMAINS)
    names = "{m.split('.')[0] for m in sys.modules}"
    script = f"import sys, {modules}; print(sorted({names}))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert IO_LIBRARIES.isdisjoint(ast.literal_eval(loaded)), loaded


def test_event_modules_do_not_import_the_domain() -> None:
    for path in PACKAGE.glob("*/events.py"):
        imported = {
            node.module or "" for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
        }
        assert not {m for m in imported if m.endswith(".domain")}, path


def test_the_wire_carries_every_status_and_category_of_the_domain() -> None:
    assert [s.value for s in events.StallStatus] == [s.value for s in domain.StallStatus]
    assert [c.value for c in events.StallCategory] == [c.value for c in domain.StallCategory]


def test_the_wire_carries_every_state_of_a_concession() -> None:
    assert [s.value for s in concessions_events.ConcessionState] == [
        s.value for s in concessions_domain.ConcessionState
    ]
