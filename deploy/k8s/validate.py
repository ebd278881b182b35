"""Offline validation of rendered kustomize overlays.

Run by deploy/k8s/check.sh inside the .tools/k8s virtualenv:

    python deploy/k8s/validate.py --root <tree> --k8s-version 1.35.0 dev=dev.yaml prod=prod.yaml

For every object of every rendered overlay:
- core Kubernetes kinds are validated with kubernetes-validate in strict mode
  (unknown fields are errors) against the bundled schemas of --k8s-version;
- custom resources (Strimzi, MongoDB, Prometheus Operator) are validated
  against the JSON Schemas vendored under deploy/k8s/schemas/<group>/<version>/;
  a kind with neither schema is an error, never a silent skip;
- platform rules: pinned images, restricted pod security with requests and
  limits, probes on /healthz and /readyz, no Secret objects, every service's
  production settings present, ACLs naming only declared topics, PromQL that
  parses, pinned Dockerfile base images, one copy of the Grafana dashboard;
- exposure rules: the Ingress routes only the public paths (never /metrics,
  /readyz, /healthz, never a catch-all "/" prefix), the gateway believes
  X-Forwarded-For only from named networks (never "*"), MongoDB requires TLS
  and every service is given its CA.

Exit status: 0 when everything passes, 1 when anything fails.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import pathlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import kubernetes_validate
import promql_parser
import yaml
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent / "schemas"
DASHBOARD_CANONICAL = "deploy/k8s/base/observability/grafana/commerce-platform.json"
DASHBOARD_DOCS = "docs/grafana/commerce-platform.json"
SERVICE_COMPONENT = "service"

# Settings each service reads from its environment in production. Values
# marked secret must come from a Secret, never from a literal or ConfigMap.
COMMON_ENV = {
    "PROFILE": "config",
    "LOG_LEVEL": "config",
    "KAFKA_BOOTSTRAP": "config",
    "KAFKA_SECURITY_PROTOCOL": "config",
    "KAFKA_SASL_MECHANISM": "config",
    "KAFKA_SASL_USERNAME": "config",
    "KAFKA_SASL_PASSWORD": "secret",
    "KAFKA_SSL_CAFILE": "config",
    "KAFKA_SESSION_TIMEOUT_MS": "config",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "config",
    "KAFKA_CREATE_TOPICS": "config",
    "MONGO_URL": "secret",
    "MONGO_DB": "config",
    "MONGO_TLS_CA_FILE": "config",
}
# a service verifies tokens with the gateway's public keys, fetched from it
VERIFIER_ENV = {**COMMON_ENV, "GATEWAY_URL": "config"}
SERVICE_ENV = {
    "markets": VERIFIER_ENV,
    "shops": VERIFIER_ENV,
    "districts": VERIFIER_ENV,
    "gateway": {
        **COMMON_ENV,
        "JWT_PRIVATE_KEY": "secret",
        "MARKETS_URL": "config",
        "SHOPS_URL": "config",
        "DISTRICTS_URL": "config",
        "CORS_ORIGINS": "config",
        "FORWARDED_ALLOW_IPS": "config",
        "BOOTSTRAP_OFFICE_USERNAME": "secret",
        "BOOTSTRAP_OFFICE_PASSWORD": "secret",
    },
}
# Only the gateway may hold a key that signs tokens (issue 14: one shared secret let any service mint them).
SIGNING_ENV = ("JWT_PRIVATE_KEY", "JWT_PREVIOUS_KEYS", "JWT_SECRET")
# Objects every service needs beside its Deployment.
SERVICE_COMPANIONS = (
    "Service",
    "ServiceAccount",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "ServiceMonitor",
    "KafkaUser",
)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}
PINNED_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


# --- loading -----------------------------------------------------------------


def load_documents(path: pathlib.Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def object_name(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind', '?')}/{meta.get('name', '?')}"


def build_registry() -> tuple[Registry, dict[tuple[str, str, str], str]]:
    """Register every vendored schema under its file URI; index CR schemas by (group, version, kind)."""
    registry: Registry = Registry()
    index: dict[tuple[str, str, str], str] = {}
    for schema_path in sorted(SCHEMA_DIR.rglob("*.json")):
        contents = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(contents)
        uri = schema_path.as_uri()
        registry = registry.with_resource(uri, Resource.from_contents(contents))
        relative = schema_path.relative_to(SCHEMA_DIR).parts
        if len(relative) == 3:
            group, version, filename = relative
            index[(group, version, filename.removesuffix(".json"))] = uri
    return registry, index


# --- schema validation ---------------------------------------------------------


def schema_errors(validator: jsonschema.protocols.Validator, doc: dict[str, Any]) -> Iterator[str]:
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        detail = error
        if error.context:
            detail = best_match(error.context)
        path = ".".join(str(part) for part in detail.absolute_path) or "(object)"
        yield f"{path}: {detail.message}"


def validate_schema(
    doc: dict[str, Any],
    where: str,
    report: Report,
    registry: Registry,
    index: dict[tuple[str, str, str], str],
    k8s_version: str,
) -> None:
    api_version = str(doc.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    kind = str(doc.get("kind", ""))
    uri = index.get((group, version, kind.lower()))
    if uri is not None:
        validator = jsonschema.Draft202012Validator({"$ref": uri}, registry=registry)
        for message in schema_errors(validator, doc):
            report.fail(where, f"{api_version} {kind} schema: {message}")
        report.count(f"custom resources ({kind})")
        return
    try:
        kubernetes_validate.validate(doc, k8s_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path) or "(object)"
        report.fail(where, f"Kubernetes {error.version} schema (strict): {path}: {error.message}")
    except kubernetes_validate.SchemaNotFoundError:
        report.fail(
            where,
            f"no schema for {api_version} {kind}: neither Kubernetes {k8s_version} nor "
            f"deploy/k8s/schemas/{group}/{version}/{kind.lower()}.json knows it",
        )
    else:
        report.count("core objects")


# --- platform rules --------------------------------------------------------------


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    if kind in WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec")
    return None


def containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (resolves to latest)"
    tag = last.rsplit(":", 1)[1]
    if tag == "latest":
        return "uses the latest tag"
    if not PINNED_TAG.match(tag):
        return f"has an invalid tag {tag!r}"
    return None


def check_images(doc: dict[str, Any], where: str, report: Report) -> None:
    spec = pod_spec(doc)
    if spec is None:
        return
    for container in containers(spec):
        image = str(container.get("image", ""))
        problem = image_problem(image) if image else "has no image"
        if problem:
            report.fail(where, f"container {container.get('name')!r} image {image!r} {problem}")


def check_pod_security(doc: dict[str, Any], where: str, report: Report) -> None:
    """Non-root, read-only root filesystem, no escalation, no capabilities, seccomp, requests and limits."""
    spec = pod_spec(doc)
    if spec is None:
        return
    pod_context = spec.get("securityContext") or {}
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    for container in containers(spec):
        name = container.get("name")
        context = container.get("securityContext") or {}
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is not True:
            report.fail(where, f"container {name!r} must run with runAsNonRoot: true")
        if context.get("readOnlyRootFilesystem") is not True:
            report.fail(where, f"container {name!r} must set readOnlyRootFilesystem: true")
        if context.get("allowPrivilegeEscalation") is not False:
            report.fail(where, f"container {name!r} must set allowPrivilegeEscalation: false")
        if context.get("privileged"):
            report.fail(where, f"container {name!r} must not be privileged")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []) or capabilities.get("add"):
            report.fail(where, f"container {name!r} must drop ALL capabilities and add none")
        if (context.get("seccompProfile") or {}).get("type", pod_seccomp) != "RuntimeDefault":
            report.fail(where, f"container {name!r} must use the RuntimeDefault seccomp profile")
        resources = container.get("resources") or {}
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (resources.get(section) or {}):
                    report.fail(where, f"container {name!r} has no {resource} {section[:-1]}")


def http_probe_path(probe: dict[str, Any] | None) -> str | None:
    if not probe:
        return None
    return (probe.get("httpGet") or {}).get("path")


def check_service_probes(doc: dict[str, Any], where: str, report: Report) -> None:
    spec = pod_spec(doc) or {}
    for container in spec.get("containers") or []:
        name = container.get("name")
        expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for probe, path in expected.items():
            actual = http_probe_path(container.get(probe))
            if actual != path:
                report.fail(where, f"container {name!r} {probe} must be an HTTP GET on {path} (found {actual})")


def service_env(doc: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> dict[str, str]:
    """Name -> 'secret' | 'config' | 'literal' for the first container of a workload."""
    spec = pod_spec(doc) or {}
    container = (spec.get("containers") or [{}])[0]
    sources: dict[str, str] = {}
    for env_from in container.get("envFrom") or []:
        ref = (env_from.get("configMapRef") or {}).get("name")
        for key in config_maps.get(ref, {}):
            sources[key] = "config"
    for var in container.get("env") or []:
        value_from = var.get("valueFrom") or {}
        if "secretKeyRef" in value_from:
            sources[var["name"]] = "secret"
        elif "configMapKeyRef" in value_from:
            sources[var["name"]] = "config"
        else:
            sources[var["name"]] = "literal"
    return sources


def check_services(docs: list[dict[str, Any]], overlay: str, report: Report) -> None:
    config_maps = {doc["metadata"]["name"]: doc.get("data") or {} for doc in docs if doc.get("kind") == "ConfigMap"}
    by_kind: dict[str, set[str]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", ""), set()).add((doc.get("metadata") or {}).get("name", ""))
    deployments = {
        doc["metadata"]["name"]: doc
        for doc in docs
        if doc.get("kind") == "Deployment"
        and (doc["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == SERVICE_COMPONENT
    }
    for service, required in SERVICE_ENV.items():
        where = f"{overlay}: Deployment/{service}"
        doc = deployments.get(service)
        if doc is None:
            report.fail(f"{overlay}", f"service {service!r} has no Deployment")
            continue
        check_service_probes(doc, where, report)
        for companion in SERVICE_COMPANIONS:
            if service not in by_kind.get(companion, set()):
                report.fail(where, f"has no {companion} named {service!r}")
        sources = service_env(doc, config_maps)
        for name in SIGNING_ENV:
            if service != "gateway" and name in sources:
                report.fail(where, f"environment variable {name} gives a signing key to a service that only verifies")
        for name, kind in required.items():
            actual = sources.get(name)
            if actual is None:
                report.fail(where, f"environment variable {name} is not set")
            elif kind == "secret" and actual != "secret":
                report.fail(where, f"environment variable {name} must come from a Secret (found {actual})")
        report.count("services checked for settings")


# operations endpoints every service serves; scraped and probed inside the cluster, never public
OPERATIONS_PATHS = ("/metrics", "/readyz", "/healthz")


def _routes_to(ingress_path: str, path_type: str, target: str) -> bool:
    if path_type == "Exact":
        return ingress_path == target
    prefix = ingress_path.rstrip("/")
    return target == prefix or target.startswith(prefix + "/")


def check_exposure(docs: list[dict[str, Any]], overlay: str, report: Report) -> None:
    """What the Ingress exposes, whose forwarded addresses the gateway believes, MongoDB's TLS."""
    for doc in docs:
        where = f"{overlay}: {object_name(doc)}"
        if doc.get("kind") == "Ingress":
            for rule in (doc.get("spec") or {}).get("rules") or []:
                for item in ((rule.get("http") or {}).get("paths")) or []:
                    path, kind = item.get("path", "/"), item.get("pathType", "")
                    if kind not in ("Exact", "Prefix"):
                        report.fail(where, f"path {path!r}: pathType must be Exact or Prefix (found {kind!r})")
                    elif kind == "Prefix" and path.rstrip("/") == "":
                        report.fail(where, "a Prefix '/' path exposes every path of the backend, /metrics included")
                    for target in OPERATIONS_PATHS:
                        if _routes_to(path, kind, target):
                            report.fail(where, f"path {path!r} ({kind}) exposes {target}")
            report.count("ingresses checked for exposure")
        if doc.get("kind") == "ConfigMap" and "FORWARDED_ALLOW_IPS" in (doc.get("data") or {}):
            for entry in doc["data"]["FORWARDED_ALLOW_IPS"].split(","):
                try:
                    ipaddress.ip_network(entry.strip(), strict=False)
                except ValueError:
                    report.fail(where, f"FORWARDED_ALLOW_IPS entry {entry.strip()!r} is not a network (never '*')")
        if doc.get("kind") == "MongoDBCommunity":
            tls = ((doc.get("spec") or {}).get("security") or {}).get("tls") or {}
            if not tls.get("enabled") or tls.get("optional", False):
                report.fail(where, "MongoDB must require TLS (security.tls.enabled: true, optional: false)")


def check_no_secrets(doc: dict[str, Any], where: str, report: Report) -> None:
    if doc.get("kind") == "Secret":
        report.fail(where, "Secret objects must not be kept in git; create them in the cluster")


def check_topics(docs: list[dict[str, Any]], overlay: str, report: Report) -> None:
    topics = {
        (doc.get("spec") or {}).get("topicName") or doc["metadata"]["name"]
        for doc in docs
        if doc.get("kind") == "KafkaTopic"
    }
    for topic in sorted(topics):
        if topic.endswith(".events") and f"{topic}.dlq" not in topics:
            report.fail(f"{overlay}: KafkaTopic/{topic}", f"has no dead-letter topic {topic}.dlq")
    for doc in docs:
        if doc.get("kind") != "KafkaUser":
            continue
        acls = ((doc.get("spec") or {}).get("authorization") or {}).get("acls") or []
        for acl in acls:
            resource = acl.get("resource") or {}
            literal_topic = resource.get("type") == "topic" and resource.get("patternType", "literal") == "literal"
            if literal_topic and resource.get("name") not in topics:
                report.fail(
                    f"{overlay}: {object_name(doc)}",
                    f"ACL names topic {resource.get('name')!r} that no KafkaTopic declares",
                )


PROMQL_PLACEHOLDERS = (
    (re.compile(r"\$__(rate_)?interval|\$__range"), "5m"),
    (re.compile(r"\$\{service(:\w+)?\}|\$service\b"), "markets"),
)


def promql_problem(expr: str) -> str | None:
    for pattern, value in PROMQL_PLACEHOLDERS:
        expr = pattern.sub(value, expr)
    try:
        promql_parser.parse(expr)
    except ValueError as error:
        return str(error)
    return None


def dashboard_exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        for panel in panels:
            for target in panel.get("targets") or []:
                if "expr" in target:
                    yield panel.get("title", "?"), target["expr"]
            yield from walk(panel.get("panels") or [])

    yield from walk(dashboard.get("panels") or [])


def check_promql(doc: dict[str, Any], where: str, report: Report) -> None:
    if doc.get("kind") == "PrometheusRule":
        for group in (doc.get("spec") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                problem = promql_problem(str(rule.get("expr", "")))
                name = rule.get("alert") or rule.get("record")
                if problem:
                    report.fail(where, f"rule {name!r}: PromQL does not parse: {problem}")
                else:
                    report.count("PromQL expressions")
    if doc.get("kind") == "ConfigMap" and (doc["metadata"].get("labels") or {}).get("grafana_dashboard"):
        for key, text in (doc.get("data") or {}).items():
            try:
                dashboard = json.loads(text)
            except json.JSONDecodeError as error:
                report.fail(where, f"{key} is not valid JSON: {error}")
                continue
            for title, expr in dashboard_exprs(dashboard):
                problem = promql_problem(expr)
                if problem:
                    report.fail(where, f"{key} panel {title!r}: PromQL does not parse: {problem}")
                else:
                    report.count("PromQL expressions")


# --- files outside the overlays ---------------------------------------------------


def check_dockerfiles(root: pathlib.Path, report: Report) -> None:
    template = root / "deploy" / "Dockerfile"
    dockerfiles = [template] if template.exists() else []
    if not dockerfiles:
        report.fail("deploy/Dockerfile", "no Dockerfile found")
    for copy in sorted(root.glob("services/*/Dockerfile")):
        report.fail(str(copy.relative_to(root)), "services build from deploy/Dockerfile (--build-arg SERVICE), not a copy")
    for dockerfile in dockerfiles:
        where = str(dockerfile.relative_to(root))
        stages: set[str] = set()
        for number, line in enumerate(dockerfile.read_text(encoding="utf-8").splitlines(), start=1):
            words = line.split()
            if not words or words[0].upper() != "FROM":
                continue
            args = [w for w in words[1:] if not w.startswith("--")]
            image = args[0]
            if len(args) >= 3 and args[1].upper() == "AS":
                stages.add(args[2])
            if image in stages or image == "scratch":
                continue
            problem = image_problem(image)
            if problem is None and not re.search(r"\d", image.rsplit(":", 1)[-1]):
                problem = "is not pinned to a version"
            if problem:
                report.fail(f"{where}:{number}", f"base image {image!r} {problem}")
        check_image_defaults(dockerfile.read_text(encoding="utf-8"), where, report)
        report.count("Dockerfiles")


def check_image_defaults(text: str, where: str, report: Report) -> None:
    """An image starts in the prod profile unless told otherwise, and installs only hashed packages."""
    env = " ".join(line for line in text.replace("\\\n", " ").splitlines() if line.split()[:1] == ["ENV"])
    if not re.search(r"(^|\s)PROFILE=prod(\s|$)", env):
        report.fail(where, "the image must set ENV PROFILE=prod (the local profile creates demo accounts)")
    for line in text.replace("\\\n", " ").splitlines():
        if re.search(r"\bpip install\b", line) and "--require-hashes" not in line:
            report.fail(where, f"pip install without --require-hashes: {line.strip()[:120]}")


def check_dashboard_link(root: pathlib.Path, report: Report) -> None:
    canonical = root / DASHBOARD_CANONICAL
    docs_copy = root / DASHBOARD_DOCS
    if not docs_copy.exists():
        report.fail(DASHBOARD_DOCS, "missing (should link to the dashboard in deploy/k8s)")
    elif docs_copy.read_bytes() != canonical.read_bytes():
        report.fail(DASHBOARD_DOCS, f"differs from {DASHBOARD_CANONICAL}; keep it a link to that file")


# --- main ----------------------------------------------------------------------------


def validate_overlay(
    overlay: str,
    path: pathlib.Path,
    report: Report,
    registry: Registry,
    index: dict[tuple[str, str, str], str],
    k8s_version: str,
) -> None:
    docs = load_documents(path)
    if not docs:
        report.fail(overlay, "rendered no objects")
    for doc in docs:
        where = f"{overlay}: {object_name(doc)}"
        validate_schema(doc, where, report, registry, index, k8s_version)
        check_no_secrets(doc, where, report)
        check_images(doc, where, report)
        check_pod_security(doc, where, report)
        check_promql(doc, where, report)
    check_services(docs, overlay, report)
    check_topics(docs, overlay, report)
    check_exposure(docs, overlay, report)
    report.count("overlays")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path, required=True, help="tree the overlays come from")
    parser.add_argument("--k8s-version", required=True, help="Kubernetes version of the core schemas")
    parser.add_argument("overlays", nargs="+", help="NAME=RENDERED.yaml")
    args = parser.parse_args(argv)

    registry, index = build_registry()
    report = Report()
    for item in args.overlays:
        name, _, rendered = item.partition("=")
        validate_overlay(name, pathlib.Path(rendered), report, registry, index, args.k8s_version)
    check_dockerfiles(args.root, report)
    check_dashboard_link(args.root, report)

    summary = ", ".join(f"{n} {what}" for what, n in sorted(report.counts.items()))
    if report.errors:
        for error in report.errors:
            print(f"FAIL {error}")
        print(f"validate: {len(report.errors)} problem(s); checked {summary}")
        return 1
    print(f"validate: ok; checked {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
