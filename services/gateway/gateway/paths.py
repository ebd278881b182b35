"""Path templates (``/api/v1/markets/{id}``): matching concrete paths, comparing shapes."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PARAM = re.compile(r"^\{([^}:]+)(?::[^}]*)?\}$")


class PathTemplate:
    def __init__(self, template: str) -> None:
        self.template = template
        parts = []
        self.literals = 0
        for segment in template.strip("/").split("/"):
            param = _PARAM.match(segment)
            if param:
                parts.append(f"(?P<{param.group(1)}>[^/]+)")
            else:
                parts.append(re.escape(segment))
                self.literals += 1
        self._regex = re.compile("^/" + "/".join(parts) + "$")

    @property
    def shape(self) -> str:
        """The template with parameter names erased: ``/markets/{}/stalls/{}``."""
        return shape_of(self.template)

    def match(self, path: str) -> dict[str, str] | None:
        found = self._regex.match(path)
        return found.groupdict() if found else None


def shape_of(template: str) -> str:
    return "/".join("{}" if _PARAM.match(s) else s for s in template.split("/"))


class TemplateIndex:
    """Finds the most specific template matching a path (literal segments win over parameters)."""

    def __init__(self, templates: Iterable[str] = ()) -> None:
        self._templates: list[PathTemplate] = []
        self.replace(templates)

    def replace(self, templates: Iterable[str]) -> None:
        unique = {shape_of(t): t for t in templates}
        self._templates = sorted((PathTemplate(t) for t in unique.values()), key=lambda t: -t.literals)

    def find(self, path: str) -> tuple[PathTemplate, dict[str, str]] | None:
        for template in self._templates:
            params = template.match(path)
            if params is not None:
                return template, params
        return None
