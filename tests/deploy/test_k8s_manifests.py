"""The offline Kubernetes check (deploy/k8s/check.sh) accepts the real manifests and rejects broken ones.

The check installs its pinned validators into .tools/ on first use (about a
minute); afterwards one run takes a few seconds. The tests are skipped only
when that installation is impossible (check.sh exit status 3).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "deploy" / "k8s" / "check.sh"
TOOLS_UNAVAILABLE = 3


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(CHECK)],
        env={**os.environ, "K8S_CHECK_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode == TOOLS_UNAVAILABLE:
        pytest.skip(f"the pinned k8s validators could not be installed: {result.stderr.strip()[-500:]}")
    return result


def copy_tree(target: Path) -> Path:
    """The parts of the repository the check reads: deploy/ (with the Dockerfile) and docs/."""
    shutil.copytree(REPO / "deploy", target / "deploy", symlinks=True)
    (target / "docs").mkdir()
    shutil.copytree(REPO / "docs" / "grafana", target / "docs" / "grafana", symlinks=True)
    shutil.copy2(REPO / "docs" / "prometheus.yml", target / "docs" / "prometheus.yml")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# a breakage: (file of the copy, text in it, what replaces the text) edits, or a function of the copy's root
Edits = tuple[tuple[str, str, str], ...]


def dockerfile_copy_in_shops(root: Path) -> None:
    (root / "services" / "shops").mkdir(parents=True)
    shutil.copy2(root / "deploy" / "Dockerfile", root / "services" / "shops" / "Dockerfile")


INGRESS = "deploy/k8s/base/apps/gateway/ingress.yaml"
GATEWAY_IMAGE = "    newName: registry.example.org/milan-commerce/gateway\n"

BREAKAGES: dict[str, tuple[Edits | Callable[[Path], None], tuple[str, ...]]] = {
    "deployment without resource limits": (
        (
            (
                "deploy/k8s/overlays/prod/patches/service-resources.yaml",
                '    limits:\n      cpu: "1"\n      memory: 768Mi\n',
                "",
            ),
        ),
        (
            r"prod: Deployment/markets: container 'markets' has no cpu limit",
            r"CKV_K8S_11",
            r"CKV_K8S_13",
        ),
    ),
    "container allowed to run as root": (
        (
            (
                "deploy/k8s/base/apps/markets/deployment.yaml",
                "            readOnlyRootFilesystem: true\n            runAsNonRoot: true\n",
                "            readOnlyRootFilesystem: true\n            runAsNonRoot: false\n",
            ),
        ),
        (r"Deployment/markets: container 'markets' must run with runAsNonRoot: true",),
    ),
    "image tagged latest": (
        (
            (
                "deploy/k8s/overlays/dev/kustomization.yaml",
                GATEWAY_IMAGE + "    newTag: 0.1.0-dev\n",
                GATEWAY_IMAGE + "    newTag: latest\n",
            ),
        ),
        (
            r"dev: Deployment/gateway: container 'gateway' image "
            r"'registry.example.org/milan-commerce/gateway:latest' uses the latest tag",
            r"CKV_K8S_14",
        ),
    ),
    "KafkaTopic with an unknown field": (
        (("deploy/k8s/base/kafka/topics.yaml", "  partitions: 6\n", "  partition: 6\n"),),
        (
            r"KafkaTopic/markets.events: kafka.strimzi.io/v1 KafkaTopic schema: spec: "
            r"Additional properties are not allowed \('partition' was unexpected\)",
        ),
    ),
    "Deployment with an unknown field": (
        (("deploy/k8s/base/apps/shops/deployment.yaml", "livenessProbe:", "livenesProbe:"),),
        (
            r"Deployment/shops: Kubernetes 1\.35 schema \(strict\): .*'livenesProbe' was unexpected",
            r"container 'shops' livenessProbe must be an HTTP GET on /healthz",
            r"CKV_K8S_8",
        ),
    ),
    "ingress routing every path of the gateway": (
        (
            (
                INGRESS,
                "          - path: /api/v1\n            pathType: Prefix\n",
                "          - path: /\n            pathType: Prefix\n",
            ),
        ),
        (
            r"prod: Ingress/gateway: a Prefix '/' path exposes every path of the backend",
            r"prod: Ingress/gateway: path '/' \(Prefix\) exposes /readyz",
        ),
    ),
    "ingress exposing the metrics": (
        (
            (
                INGRESS,
                "          - path: /operator\n            pathType: Exact\n",
                "          - path: /metrics\n            pathType: Exact\n",
            ),
        ),
        (r"dev: Ingress/gateway: path '/metrics' \(Exact\) exposes /metrics",),
    ),
    "forwarded addresses believed from anyone": (
        (
            (
                "deploy/k8s/base/apps/gateway/kustomization.yaml",
                "      - FORWARDED_ALLOW_IPS=10.100.0.0/24\n",
                "      - FORWARDED_ALLOW_IPS=*\n",
            ),
        ),
        (r"prod: ConfigMap/gateway-config-\w+: FORWARDED_ALLOW_IPS entry '\*' is not a network",),
    ),
    "MongoDB without TLS": (
        (
            (
                "deploy/k8s/base/mongodb/mongodb.yaml",
                "      enabled: true\n      optional: false\n",
                "      enabled: false\n",
            ),
            ("deploy/k8s/base/apps/kustomization.yaml", "      - MONGO_TLS_CA_FILE=/etc/mongo-ca/ca.crt\n", ""),
        ),
        (
            r"prod: MongoDBCommunity/commerce-mongo: MongoDB must require TLS",
            r"prod: Deployment/markets: environment variable MONGO_TLS_CA_FILE is not set",
        ),
    ),
    "image that starts in the local profile": (
        (("deploy/Dockerfile", "    PROFILE=prod \\\n", ""),),
        (r"deploy/Dockerfile: the image must set ENV PROFILE=prod",),
    ),
    "image installing packages without their hashes": (
        (("deploy/Dockerfile", "pip install --require-hashes ", "pip install "),),
        (r"deploy/Dockerfile: pip install without --require-hashes",),
    ),
    "Dockerfile on an unpinned base image": (
        (("deploy/Dockerfile", "FROM python:3.11.14-slim-bookworm\n", "FROM python:latest\n"),),
        (r"deploy/Dockerfile:\d+: base image 'python:latest' uses the latest tag",),
    ),
    "a service with its own Dockerfile": (
        dockerfile_copy_in_shops,
        (r"services/shops/Dockerfile: services build from deploy/Dockerfile",),
    ),
}


def break_copy(root: Path, breakage: Edits | Callable[[Path], None]) -> None:
    if callable(breakage):
        breakage(root)
        return
    for path, old, new in breakage:
        edit(root / path, old, new)


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One check over a copy of the tree carrying every breakage at once (each in its own place)."""
    root = copy_tree(tmp_path_factory.mktemp("broken"))
    for breakage, _ in BREAKAGES.values():
        break_copy(root, breakage)
    return run_check(root)


def test_real_manifests_pass() -> None:
    result = run_check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "k8s-check: ok" in result.stdout
    assert "validate: ok" in result.stdout
    assert "Failed checks: 0" in result.stdout


def test_unmodified_copy_passes(tmp_path: Path) -> None:
    result = run_check(copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_broken_manifests_fail(broken_run: subprocess.CompletedProcess[str]) -> None:
    assert broken_run.returncode == 1, broken_run.stdout + broken_run.stderr
    assert "k8s-check: FAILED" in broken_run.stderr


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_each_breakage_is_reported(breakage: str, broken_run: subprocess.CompletedProcess[str]) -> None:
    output = broken_run.stdout + broken_run.stderr
    for expected in BREAKAGES[breakage][1]:
        assert re.search(expected, output), f"{breakage}: {expected!r} not in output:\n{output}"
