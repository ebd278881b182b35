"""The images install ``deploy/requirements/<service>.txt`` with ``--require-hashes``: each must pin
exactly what the service's requirements pin (shared's included), every line with its hashes.

``make lock`` (deploy/lock.sh) writes them; this test fails when a requirement changed without it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("markets", "shops", "districts", "gateway")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)")


def _pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-r "):
            found.update(_pins((path.parent / line[3:].strip()).resolve()))
        match = PIN.match(line.strip())
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def _locked(path: Path) -> dict[str, list[str]]:
    """name==version -> its hashes, from a pip-compile --generate-hashes file."""
    entries: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = f"{canonicalize_name(match.group(1))}=={match.group(2)}"
            entries[current] = []
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current].append(line.strip().split(":", 1)[1].rstrip(" \\"))
    return entries


@pytest.mark.parametrize("service", SERVICES)
def test_the_locked_requirements_pin_what_the_service_pins_with_hashes(service: str) -> None:
    locked = _locked(REPO / "deploy" / "requirements" / f"{service}.txt")
    wanted = _pins(REPO / "services" / service / "requirements.txt")
    pinned = dict(entry.split("==", 1) for entry in locked)
    drift = {name: (version, pinned.get(name)) for name, version in wanted.items() if pinned.get(name) != version}
    assert not drift, f"deploy/requirements/{service}.txt is out of date (run make lock): {drift}"
    unhashed = [entry for entry, hashes in locked.items() if not hashes]
    assert not unhashed, f"entries without a hash in deploy/requirements/{service}.txt: {unhashed}"
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for hashes in locked.values() for h in hashes)
