"""The template's rules for the shops package, read from its source: pure domains, own event models."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "shops"
PURE = [
    "clock.py",
    "register/domain.py",
    "offers/domain.py",
    "offers/hours.py",
    "nearest/domain.py",
    "nearest/geoindex.py",
    "closures/domain.py",
    "documents/domain.py",
]
IO_LIBRARIES = {"fastapi", "starlette", "pydantic", "pymongo", "bson", "aiokafka", "httpx", "uvicorn"}
PURE_SHARED = {"shared.categories", "shared.errors", "shared.i18n", "shared.places", "shared.versions"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def module_path(module: str) -> Path:
    return PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")


def test_domain_modules_import_no_io_library_even_indirectly() -> None:
    for pure in PURE:
        seen: set[str] = set()
        todo = [PACKAGE / pure]
        while todo:
            path = todo.pop()
            for module in imports(path):
                top = module.split(".")[0]
                assert top not in IO_LIBRARIES, f"{pure} imports {module} (through {path.name})"
                if top == "shared":
                    assert module in PURE_SHARED, f"{pure} imports {module} (through {path.name})"
                if top == "shops" and module not in seen:
                    seen.add(module)
                    assert module_path(module).name in {"domain.py", "hours.py", "geoindex.py", "clock.py"}, (
                        f"{pure} reaches {module}, which is not a domain module"
                    )
                    todo.append(module_path(module))


def test_event_models_import_no_domain_type() -> None:
    for events in PACKAGE.glob("*/events.py"):
        reached = {m for m in imports(events) if m.startswith("shops.")}
        assert all(m.endswith(".events") for m in reached), f"{events.relative_to(PACKAGE)} imports {reached}"


def test_every_subdomain_has_the_template_layers_and_no_app_state() -> None:
    layers = {"domain.py", "service.py", "schemas.py", "api.py"}
    for subdomain in ("register", "offers", "nearest"):
        present = {p.name for p in (PACKAGE / subdomain).glob("*.py")}
        assert layers <= present, (subdomain, layers - present)
    for path in PACKAGE.rglob("*.py"):
        assert "app.state." not in path.read_text(), f"{path.relative_to(PACKAGE)} reaches into app.state"
