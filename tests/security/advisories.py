"""The advisory snapshot the dependency audit falls back on where no advisory service answers.

``advisories.json`` holds, for every package pinned in the repository's requirements files at the
time it was taken, the known advisories with the version ranges they affect. ``check`` compares the
pins with it. Refresh it (one command, from the repository root)::

    .venv/bin/python -m tests.security.advisories refresh

The refresh downloads the newest ``safety-db`` release from PyPI with pip (the one advisory data
set a package index serves, reachable wherever the project installs its packages) and keeps the
advisories of the pinned packages. The snapshot records the date it was taken and the date of the
data it was taken from; the test fails when it was taken too long ago or does not cover a pin.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SNAPSHOT = HERE / "advisories.json"
SOURCE_PACKAGE = "safety-db"
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#\\]+)")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    where: str


@dataclass(frozen=True)
class Finding:
    pin: Pin
    advisory: str
    affected: str
    summary: str

    def __str__(self) -> str:
        return f"{self.pin.name} {self.pin.version} ({self.pin.where}): {self.advisory} affects {self.affected}"


def requirement_files(root: Path = ROOT) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*requirements*.txt"], cwd=root, capture_output=True, text=True, check=True, timeout=30
    )
    return [root / name for name in listed.stdout.split()]


def pins(files: Iterable[Path], root: Path = ROOT) -> list[Pin]:
    """Every ``name==version`` line of the files (hash and option lines are skipped)."""
    found = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = PIN.match(line)
            if match:
                found.append(Pin(canonicalize_name(match.group(1)), match.group(2), str(path.relative_to(root))))
    return found


def load(path: Path = SNAPSHOT) -> dict[str, Any]:
    snapshot: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return snapshot


def check(pinned: Iterable[Pin], snapshot: dict[str, Any]) -> tuple[list[Finding], list[Pin]]:
    """Advisories affecting a pinned version, and the pins the snapshot does not cover."""
    covered = set(snapshot["packages"])
    findings, uncovered = [], []
    for pin in pinned:
        if pin.name not in covered:
            uncovered.append(pin)
            continue
        try:
            version = Version(pin.version)
        except InvalidVersion:
            uncovered.append(pin)
            continue
        for advisory in snapshot["advisories"].get(pin.name, []):
            for spec in advisory["specs"]:
                try:
                    affected = version in SpecifierSet(spec, prereleases=True)
                except InvalidSpecifier:
                    continue
                if affected:
                    findings.append(Finding(pin, advisory["id"], spec, advisory["summary"]))
                    break
    return findings, uncovered


def age_days(snapshot: dict[str, Any], today: date | None = None) -> int:
    return ((today or datetime.now(UTC).date()) - date.fromisoformat(snapshot["taken"])).days


def _download_source(workdir: Path) -> tuple[str, dict[str, Any]]:
    """The newest safety-db wheel from the package index, and its full database."""
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run(
        [*download, "-d", str(workdir), SOURCE_PACKAGE],
        check=True,
        timeout=300,
    )
    wheel = next(workdir.glob("safety_db-*.whl"))
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as archive:
        database: dict[str, Any] = json.loads(archive.read("safety_db/insecure_full.json"))
    return version, database


def build(database: dict[str, Any], source: str, pinned: Iterable[Pin], today: date) -> dict[str, Any]:
    """The snapshot for the pinned packages out of a safety-db database."""
    names = sorted({pin.name for pin in pinned})
    by_name = {canonicalize_name(k): v for k, v in database.items() if not k.startswith("$")}
    meta = database.get("$meta") or {}
    data_as_of = datetime.fromtimestamp(int(meta.get("timestamp", 0)), UTC).date().isoformat()
    advisories = {
        name: [
            {
                "id": entry.get("cve") or entry["id"],
                "specs": list(entry.get("specs") or []),
                "summary": str(entry.get("advisory", ""))[:300],
            }
            for entry in by_name[name]
        ]
        for name in names
        if name in by_name
    }
    return {
        "taken": today.isoformat(),
        "source": source,
        "data_as_of": data_as_of,
        "packages": names,
        "advisories": advisories,
    }


def refresh(path: Path = SNAPSHOT) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        version, database = _download_source(Path(workdir))
    snapshot = build(
        database, f"{SOURCE_PACKAGE} {version} (PyPI)", pins(requirement_files()), datetime.now(UTC).date()
    )
    path.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return snapshot


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["refresh", "check"])
    args = parser.parse_args(argv)
    if args.command == "refresh":
        snapshot = refresh()
        print(
            f"{SNAPSHOT.relative_to(ROOT)}: {len(snapshot['packages'])} pinned packages, "
            f"{sum(len(v) for v in snapshot['advisories'].values())} advisories from {snapshot['source']} "
            f"(data as of {snapshot['data_as_of']})"
        )
        return 0
    findings, uncovered = check(pins(requirement_files()), load())
    for finding in findings:
        print(finding)
    for pin in uncovered:
        print(f"not covered by the snapshot: {pin.name} {pin.version} ({pin.where})")
    return 1 if findings or uncovered else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
