"""Every pinned requirement of the project is checked against known vulnerabilities; never skipped.

Where the advisory service answers, pip-audit runs from its own virtualenv (``.tools/audit``,
pinned in ``requirements-audit.txt``) against each requirements file in the repository. Where it
does not (or answers for no package), the pins are checked against the advisory snapshot shipped
with the tests (``advisories.json``, refreshed by ``python -m tests.security.advisories refresh``);
a snapshot taken more than ``MAX_SNAPSHOT_AGE_DAYS`` ago, or that does not cover a pin, fails.
Either way a known vulnerability fails the test unless ``audit-ignore.txt`` names it with a reason.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from devkit.stack.components import ROOT, TOOLS

from . import advisories

HERE = Path(__file__).parent
AUDIT_VENV = TOOLS / "audit"
AUDIT_REQUIREMENTS = HERE / "requirements-audit.txt"
IGNORED = HERE / "audit-ignore.txt"
ADVISORIES = "https://pypi.org/pypi/pip-audit/2.10.1/json"
MAX_SNAPSHOT_AGE_DAYS = 90


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


def _audit_with_the_service(ignored: dict[str, str]) -> tuple[int, list[str], list[str]] | None:
    """pip-audit on every requirements file: (audited, not audited, findings), or None if it cannot."""
    if _advisory_service_problem():
        return None
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
    return (audited, unaudited, found) if audited else None


def _audit_with_the_snapshot(ignored: dict[str, str]) -> tuple[str, list[str]]:
    snapshot = advisories.load()
    age = advisories.age_days(snapshot)
    assert age <= MAX_SNAPSHOT_AGE_DAYS, (
        f"the advisory snapshot was taken {age} days ago ({snapshot['taken']}): refresh it with "
        "`.venv/bin/python -m tests.security.advisories refresh`"
    )
    pinned = advisories.pins(advisories.requirement_files())
    findings, uncovered = advisories.check(pinned, snapshot)
    assert not uncovered, "pins the advisory snapshot does not cover (refresh it): " + ", ".join(
        f"{p.name}=={p.version} ({p.where})" for p in uncovered
    )
    found = [str(f) for f in findings if f.advisory not in ignored]
    source = (
        f"snapshot {advisories.SNAPSHOT.name} taken {snapshot['taken']} from {snapshot['source']}, "
        f"data as of {snapshot['data_as_of']}: {len(pinned)} pins of {len(snapshot['packages'])} packages"
    )
    return source, found


def test_pinned_requirements_have_no_known_vulnerability() -> None:
    ignored = _ignored()
    live = _audit_with_the_service(ignored)
    if live is not None:
        audited, unaudited, found = live
        source = f"pip-audit (advisory service): {audited} pinned packages audited, not audited {unaudited}"
    else:
        source, found = _audit_with_the_snapshot(ignored)
    assert not found, "known vulnerabilities (fix them, or justify them in audit-ignore.txt):\n" + "\n".join(found)
    print(f"\n[audit] {source}; vulnerabilities 0, ignored {len(ignored)}")


def test_the_snapshot_check_finds_an_affected_pin_and_names_pins_it_does_not_cover() -> None:
    snapshot = {
        "taken": "2026-12-01",
        "source": "test",
        "data_as_of": "2026-12-01",
        "packages": ["jinja2", "urllib3"],
        "advisories": {"jinja2": [{"id": "CVE-2014-1402", "specs": ["<2.7.2"], "summary": "cache folder"}]},
    }
    pinned = [
        advisories.Pin("jinja2", "2.7.1", "a.txt"),
        advisories.Pin("jinja2", "2.7.2", "b.txt"),
        advisories.Pin("urllib3", "2.0.0", "a.txt"),
        advisories.Pin("fastapi", "0.1.0", "a.txt"),
    ]
    findings, uncovered = advisories.check(pinned, snapshot)
    assert [(f.pin.version, f.advisory) for f in findings] == [("2.7.1", "CVE-2014-1402")]
    assert [p.name for p in uncovered] == ["fastapi"]


def test_the_shipped_snapshot_covers_every_pin_and_is_dated() -> None:
    snapshot = advisories.load()
    assert {"taken", "source", "data_as_of", "packages", "advisories"} <= set(snapshot)
    _, uncovered = advisories.check(advisories.pins(advisories.requirement_files()), snapshot)
    assert not uncovered, f"refresh the snapshot: {[p.name for p in uncovered]}"
