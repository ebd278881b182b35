"""The import contracts (.importlinter) hold on the tree, and a forbidden import breaks them."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract_names() -> dict[str, str]:
    config = configparser.ConfigParser()
    config.read(CONFIG)
    prefix = "importlinter:contract:"
    return {
        s.removeprefix(prefix): " ".join(config[s]["name"].split()) for s in config.sections() if s.startswith(prefix)
    }


def package_roots(tree: Path) -> list[Path]:
    """The folders that hold the root packages: the repository and each service's folder."""
    return [tree, *sorted(p for p in (tree / "services").iterdir() if p.is_dir())]


def lint_imports(tree: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in package_roots(tree))}
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / ".importlinter")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the report wraps long contract names; join the lines back for matching
    return run.returncode, " ".join((run.stdout + run.stderr).split())


def test_the_tree_keeps_its_import_contracts() -> None:
    names = contract_names()
    assert {"services-independent", "shared-knows-no-service", "gateway-imports-no-service", "pure-domain"} <= set(
        names
    )
    code, report = lint_imports(ROOT)
    assert code == 0, report
    for name in names.values():
        assert f"{name} KEPT" in report
    assert f"Contracts: {len(names)} kept, 0 broken." in report


def _copy_of_the_packages(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    source_only = shutil.ignore_patterns("static", "docs_ui", "__pycache__", "*.pyc")
    for package in ("shared", "devkit"):
        if (ROOT / package).is_dir():
            shutil.copytree(ROOT / package, tree / package, ignore=source_only)
    for service in ("markets", "shops", "districts", "gateway"):
        shutil.copytree(
            ROOT / "services" / service / service, tree / "services" / service / service, ignore=source_only
        )
    shutil.copy(CONFIG, tree / ".importlinter")
    return tree


def _append(module: Path, line: str) -> str:
    module.write_text(module.read_text() + f"\n{line}\n")
    return module.name


def test_each_forbidden_import_breaks_its_contract_and_is_named(tmp_path: Path) -> None:
    tree = _copy_of_the_packages(tmp_path)
    assert lint_imports(tree)[0] == 0, "the copy must start clean"
    services = tree / "services"
    _append(services / "markets" / "markets" / "main.py", "import shops  # a service reaching into another")
    _append(
        services / "markets" / "markets" / "stalls" / "service.py", "import devkit.testing  # tooling in the runtime"
    )
    _append(services / "gateway" / "gateway" / "main.py", "import districts  # the gateway importing a service")
    _append(tree / "shared" / "retry.py", "import markets  # infrastructure knowing a service")
    domain = min((services / "districts" / "districts").rglob("domain.py"))
    _append(domain, "import pymongo  # a domain module doing I/O")
    domain_module = ".".join(domain.relative_to(services / "districts").with_suffix("").parts)

    code, report = lint_imports(tree)

    names = contract_names()
    assert code != 0
    for contract in names.values():
        assert f"{contract} BROKEN" in report
    assert f"Contracts: 0 kept, {len(names)} broken." in report
    for offence in (
        "markets.main -> shops",
        "markets.stalls.service -> devkit.testing",
        "gateway.main -> districts",
        "shared.retry -> markets",
        f"{domain_module} -> pymongo",
    ):
        assert offence in report, offence


def test_one_forbidden_import_breaks_only_its_own_contract(tmp_path: Path) -> None:
    tree = _copy_of_the_packages(tmp_path)
    domain = min((tree / "services" / "shops" / "shops").rglob("domain.py"))
    _append(domain, "from shared.web import problems  # the HTTP toolkit in the domain")

    code, report = lint_imports(tree)

    names = contract_names()
    assert code != 0
    assert f"{names['pure-domain']} BROKEN" in report
    assert f"Contracts: {len(names) - 1} kept, 1 broken." in report
    assert "shared.web" in report
