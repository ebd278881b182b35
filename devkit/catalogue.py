"""The event catalogue (docs/events.md) read as data, for the tests that hold the services to it."""

from __future__ import annotations

import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "docs" / "events.md"
EVENT_TYPE = re.compile(r"`[a-z_.]+\.v\d+`")


def top_level_fields(cell: str) -> set[str]:
    """``a, b{x,y}, c[{d}]`` -> {a, b, c}: names outside any brackets."""
    names, depth, current = set(), 0, ""
    for char in cell.replace("`", "") + ",":
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        elif char == "," and depth == 0:
            names.add(current.strip())
            current = ""
        elif depth == 0:
            current += char
    return names - {""}


def catalogue(topic: str | None = None) -> dict[str, set[str]]:
    """Top-level data fields of every event type in the catalogue's table (only ``topic``'s when
    given); an ``updated`` row that reads "same as registered" has the registered type's fields."""
    found: dict[str, set[str]] = {}
    for line in CATALOGUE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not EVENT_TYPE.fullmatch(cells[1]) or topic not in (None, cells[0]):
            continue
        event_type = cells[1].strip("`")
        if cells[3] == "same as registered":
            found[event_type] = found[event_type.replace(".updated.", ".registered.")]
        else:
            found[event_type] = top_level_fields(cells[3])
    return found
