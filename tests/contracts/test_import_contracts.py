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
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / ".importlinter")],
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
    source_only = shutil.ignore_patterns("tests", "static", "docs_ui", "__pycache__", "*.pyc")
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


def test_a_service_importing_another_and_a_domain_importing_the_database_break_their_contracts(
    tmp_path: Path,
) -> None:
    tree = _copy_of_the_packages(tmp_path)
    assert lint_imports(tree)[0] == 0, "the copy must start clean"
    markets = tree / "services" / "markets" / "markets"
    _append(markets / "main.py", "import shops  # a service reaching into another")
    domain = min((tree / "services" / "districts" / "districts").rglob("domain.py"))
    _append(domain, "import pymongo  # a domain module doing I/O")
    domain_module = ".".join(domain.relative_to(tree / "services" / "districts").with_suffix("").parts)

    code, report = lint_imports(tree)

    names = contract_names()
    assert code != 0
    assert f"{names['services-independent']} BROKEN" in report
    assert f"{names['pure-domain']} BROKEN" in report
    assert f"{names['shared-knows-no-service']} KEPT" in report
    assert f"{names['gateway-imports-no-service']} KEPT" in report
    assert "Contracts: 2 kept, 2 broken." in report
    assert "markets.main -> shops" in report
    assert f"{domain_module} -> pymongo" in report
