"""Every pinned requirement of the project is checked against the known-vulnerability database.

pip-audit runs from its own virtualenv (``.tools/audit``, pinned in ``requirements-audit.txt``)
against each requirements file in the repository. It asks PyPI's JSON API for advisories; where
that service cannot be reached the test is skipped and says so. A known vulnerability fails the
test unless ``audit-ignore.txt`` names it with a reason.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devkit.stack.components import ROOT, TOOLS

HERE = Path(__file__).parent
AUDIT_VENV = TOOLS / "audit"
AUDIT_REQUIREMENTS = HERE / "requirements-audit.txt"
IGNORED = HERE / "audit-ignore.txt"
ADVISORIES = "https://pypi.org/pypi/pip-audit/2.10.1/json"


def _advisory_service_problem() -> str | None:
    try:
        with urllib.request.urlopen(ADVISORIES, timeout=10) as answer:
            json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _pip_audit() -> Path:
    """pip-audit in its own virtualenv, installed again whenever its pinned requirements change."""
    binary = AUDIT_VENV / "bin" / "pip-audit"
    stamp = AUDIT_VENV / ".installed"
    wanted = hashlib.sha256(AUDIT_REQUIREMENTS.read_bytes()).hexdigest()
    if binary.exists() and stamp.exists() and stamp.read_text() == wanted:
        return binary
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(AUDIT_VENV)], check=True, timeout=120)
    subprocess.run(
        [
            str(AUDIT_VENV / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(AUDIT_REQUIREMENTS),
        ],
        check=True,
        timeout=600,
    )
    stamp.write_text(wanted)
    return binary


def _ignored() -> dict[str, str]:
    entries = {}
    for line in IGNORED.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            advisory, _, reason = line.strip().partition(" ")
            assert reason.strip(), f"{IGNORED.name}: {advisory} is ignored without a reason"
            entries[advisory] = reason.strip()
    return entries


def _requirement_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*requirements*.txt"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    )
    return [ROOT / name for name in listed.stdout.split()]


def test_pinned_requirements_have_no_known_vulnerability() -> None:
    ignored = _ignored()
    problem = _advisory_service_problem()
    if problem:
        pytest.skip(f"the vulnerability database (PyPI's JSON API) cannot be reached from here: {problem}")
    audit = _pip_audit()
    audited, unaudited, found = 0, [], []
    for requirements in _requirement_files():
        command = [str(audit), "--no-deps", "--disable-pip", "-r", str(requirements), "-f", "json"]
        command += ["--progress-spinner", "off", "--cache-dir", str(AUDIT_VENV / "cache")]
        for advisory in ignored:
            command += ["--ignore-vuln", advisory]
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert run.stdout.strip(), f"pip-audit failed on {requirements.name}: {run.stderr[-2000:]}"
        for dependency in json.loads(run.stdout)["dependencies"]:
            if "skip_reason" in dependency:
                unaudited.append(f"{dependency['name']} ({requirements.relative_to(ROOT)})")
                continue
            audited += 1
            found += [
                f"{dependency['name']} {dependency['version']}: {v['id']} (fixed in {', '.join(v['fix_versions']) or '?'})"
                for v in dependency["vulns"]
            ]
    if not audited:
        pytest.skip(f"the vulnerability database answered for no package (e.g. {unaudited[:3]})")
    assert not found, "known vulnerabilities (fix them, or justify them in audit-ignore.txt):\n" + "\n".join(found)
    print(
        f"\n[audit] pinned packages audited {audited}, vulnerabilities 0, ignored {len(ignored)}, not audited {unaudited}"
    )
