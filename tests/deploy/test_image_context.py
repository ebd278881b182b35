"""What the service images can contain, read statically from deploy/Dockerfile and .dockerignore.

No container engine runs here, so the build context is computed the way the engines compute it:
every file under the repository root, minus what .dockerignore leaves out (patterns in order, the
last one that matches a path or one of its folders decides; ``*`` stays within one folder, ``**``
crosses folders). Each COPY of the Dockerfile is then resolved against that context for every
service, and the files an image would hold are checked.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
SERVICES = ("markets", "shops", "districts", "gateway")
# top-level folders that are large and never part of an image; pruned from the walk only after
# the patterns are shown to leave them out
HEAVY = (".git", ".venv", ".tools", ".data", ".run")
CLI_ONLY = ("seed.py", "bench.py")


def patterns(text: str) -> list[tuple[re.Pattern[str], bool]]:
    """The .dockerignore lines as (regex, is_exception) in order."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        glob = line[1:].strip() if negated else line
        glob = glob.strip("/")
        regex = ""
        i = 0
        while i < len(glob):
            if glob.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif glob.startswith("**", i):
                regex += ".*"
                i += 2
            elif glob[i] == "*":
                regex += "[^/]*"
                i += 1
            elif glob[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(glob[i])
                i += 1
        rules.append((re.compile(regex + r"\Z"), negated))
    return rules


def excluded(path: str, rules: list[tuple[re.Pattern[str], bool]]) -> bool:
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for regex, negated in rules:
        if any(regex.match(candidate) for candidate in candidates):
            verdict = not negated
    return verdict


def build_context(rules: list[tuple[re.Pattern[str], bool]]) -> set[str]:
    for heavy in HEAVY:
        assert excluded(heavy, rules), f"{heavy}/ would be sent to the image build"
    context = set()
    for folder, dirs, files in os.walk(REPO):
        relative = Path(folder).relative_to(REPO).as_posix()
        if relative == ".":
            dirs[:] = [d for d in dirs if d not in HEAVY]
            relative = ""
        for name in files:
            path = f"{relative}/{name}" if relative else name
            if not excluded(path, rules):
                context.add(path)
    return context


def copies(dockerfile: str, service: str) -> list[str]:
    """The context sources of the Dockerfile's COPY instructions (not those from a build stage)."""
    sources = []
    for line in dockerfile.splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in words[1:-1]:
            sources.append(source.replace("${SERVICE}", service).replace("$SERVICE", service))
    return sources


def image_files(sources: Iterable[str], context: set[str]) -> set[str]:
    files = set()
    for source in sources:
        if source.endswith("/"):
            files |= {path for path in context if path.startswith(source)}
        elif source in context:
            files.add(source)
        else:
            pytest.fail(f"COPY {source}: not in the build context")
    return files


def imports_devkit(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "devkit" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "devkit":
            return True
    return False


@pytest.fixture(scope="module")
def rules() -> list[tuple[re.Pattern[str], bool]]:
    return patterns((REPO / ".dockerignore").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def context(rules: list[tuple[re.Pattern[str], bool]]) -> set[str]:
    return build_context(rules)


def test_the_build_context_holds_no_devkit_and_no_tests(context: set[str]) -> None:
    assert context, "empty build context"
    assert not [p for p in context if p.split("/")[0] == "devkit"]
    assert not [p for p in context if "tests" in p.split("/")[:-1]]
    assert not [p for p in context if p.rsplit("/", 1)[-1] in CLI_ONLY]
    assert (REPO / "devkit" / "testing.py").exists() and (REPO / "services" / "markets" / "tests").is_dir()


@pytest.mark.parametrize("service", SERVICES)
def test_an_image_holds_shared_and_its_own_runtime_only(service: str, context: set[str]) -> None:
    files = image_files(copies(DOCKERFILE.read_text(encoding="utf-8"), service), context)
    # the runtime requirements, as the image installs them: locked with their hashes (make lock)
    assert f"deploy/requirements/{service}.txt" in files
    assert "shared/app.py" in files and f"services/{service}/{service}/main.py" in files
    allowed = ("shared/", f"services/{service}/{service}/", f"deploy/requirements/{service}.txt")
    assert sorted(p for p in files if not p.startswith(allowed)) == []
    assert not [p for p in files if p.startswith("devkit/") or "tests" in p.split("/")]
    python = [p for p in files if p.endswith(".py")]
    assert not [p for p in python if imports_devkit(REPO / p)], "a shipped module imports devkit"


def test_the_seeds_would_leak_without_their_ignore_line(rules: list[tuple[re.Pattern[str], bool]]) -> None:
    """The check above can fail: drop the line that keeps the CLI plug-ins out and they are found."""
    text = (REPO / ".dockerignore").read_text(encoding="utf-8")
    loose = patterns("\n".join(line for line in text.splitlines() if "seed" not in line))
    files = image_files(copies(DOCKERFILE.read_text(encoding="utf-8"), "markets"), build_context(loose))
    leaked = {p for p in files if p.rsplit("/", 1)[-1] == "seed.py"}
    assert leaked == {"services/markets/markets/seed.py"}
    assert any(imports_devkit(REPO / p) for p in leaked)
    assert excluded("devkit/cli.py", rules) and excluded("services/shops/tests/conftest.py", rules)
    assert not excluded("services/shops/shops/main.py", rules)


def test_the_image_runs_the_prod_profile_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert len(stages) == 2 and len(set(stages)) == 1 and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", stages[0])
    final = text.split("\nFROM ")[-1]
    assert re.search(r"^\s+PROFILE=prod\b", final, flags=re.MULTILINE)
    assert re.search(r"^USER 10001:10001$", final, flags=re.MULTILINE)
    assert "ARG SERVICE" in final and "ARG PORT" in final
    assert not list(REPO.glob("services/*/Dockerfile"))
