#!/usr/bin/env bash
# Offline validation of the Kubernetes deployment (make k8s-check).
#
#   bash deploy/k8s/check.sh
#
# 1. installs the pinned validators on first use: .tools/k8s (kubectl with
#    kustomize, kubernetes-validate, jsonschema, promql-parser, yamllint) and
#    .tools/checkov, each from its requirements file next to this script;
# 2. lints the manifests with yamllint;
# 3. renders every overlay with `kubectl kustomize`;
# 4. validates every rendered object (validate.py): core kinds against the
#    Kubernetes JSON schemas in strict mode, custom resources against the
#    schemas vendored in schemas/, plus the platform's own rules;
# 5. runs checkov's Kubernetes policies on the rendered objects.
#
# Environment:
#   K8S_CHECK_ROOT  tree whose deploy/ (with deploy/Dockerfile) and docs/ are
#                   checked (default: this repository)
#   K8S_VERSION     Kubernetes version of the core schemas (default 1.35.0)
#   K8S_TOOLS_DIR   where the tool virtualenvs live (default: <repo>/.tools)
#   PYTHON          interpreter for the virtualenvs (default: python3; 3.11)
#
# Exit status: 0 all checks pass, 1 a check failed, 3 the tools could not be
# installed (nothing was checked).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
root="$(cd "${K8S_CHECK_ROOT:-$repo}" && pwd)"
k8s_version="${K8S_VERSION:-1.35.0}"
tools="${K8S_TOOLS_DIR:-$repo/.tools}"
python="${PYTHON:-python3}"
overlays=(dev prod)
checkov_checks=(
  CKV_K8S_8 CKV_K8S_9                                  # liveness and readiness probes
  CKV_K8S_10 CKV_K8S_11 CKV_K8S_12 CKV_K8S_13          # cpu/memory requests and limits
  CKV_K8S_14                                           # image tag fixed, not latest
  CKV_K8S_16 CKV_K8S_17 CKV_K8S_18 CKV_K8S_19          # no privileged, host PID/IPC/network
  CKV_K8S_20 CKV_K8S_22 CKV_K8S_23                     # no privilege escalation, read-only root fs, non-root
  CKV_K8S_25 CKV_K8S_28 CKV_K8S_37 CKV_K8S_39          # capabilities dropped, none added
  CKV_K8S_21                                           # not in the default namespace
  CKV_K8S_29 CKV_K8S_30 CKV_K8S_31                     # security contexts, seccomp RuntimeDefault
  CKV_K8S_38 CKV_K8S_40                                # no token automount, high UID
  CKV2_K8S_6                                           # every pod covered by a NetworkPolicy
)

say() { printf '%s\n' "$*"; }
die_tools() { say "k8s-check: $*" >&2; exit 3; }

# ensure_venv DIR REQUIREMENTS: (re)install when missing, when the requirements
# file changed since the last successful install, or when the virtualenv was made
# at another path (its scripts name the interpreter by absolute path).
ensure_venv() {
  local dir="$1" requirements="$2" stamp want
  stamp="$dir/.requirements.sha256"
  want="$(sha256sum "$requirements" | cut -d' ' -f1) $(cd "$dir" 2>/dev/null && pwd -P || echo "$dir")"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  say "k8s-check: installing $(basename "$requirements") into ${dir#"$repo"/}"
  rm -rf "$dir"
  "$python" -m venv "$dir" || die_tools "cannot create a virtualenv in $dir ($python -m venv)"
  if ! "$dir/bin/python" -m pip install --disable-pip-version-check --no-input \
    -r "$requirements" >"$dir.install.log" 2>&1; then
    tail -n 40 "$dir.install.log" >&2
    rm -rf "$dir"
    die_tools "pip could not install $requirements (log: $dir.install.log)"
  fi
  printf '%s\n' "$want" >"$stamp"
}

mkdir -p "$tools" || die_tools "cannot create $tools"
exec 9>"$tools/.k8s-check.lock"
flock 9 || die_tools "cannot lock $tools/.k8s-check.lock"
ensure_venv "$tools/k8s" "$here/requirements-tools.txt"
ensure_venv "$tools/checkov" "$here/requirements-checkov.txt"
flock -u 9
kubectl="$tools/k8s/bin/kubectl"
[[ -x "$kubectl" ]] || die_tools "kubectl missing from $tools/k8s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
fail() { say "k8s-check: FAILED: $*" >&2; failed=1; }

say "k8s-check: yamllint"
lint_targets=("$root/deploy/k8s")
[[ -f "$root/docs/prometheus.yml" ]] && lint_targets+=("$root/docs/prometheus.yml")
"$tools/k8s/bin/yamllint" --strict -c "$here/yamllint.yaml" "${lint_targets[@]}" || fail "yamllint"

rendered=()
for overlay in "${overlays[@]}"; do
  say "k8s-check: kubectl kustomize deploy/k8s/overlays/$overlay"
  if "$kubectl" kustomize "$root/deploy/k8s/overlays/$overlay" >"$work/$overlay.yaml"; then
    rendered+=("$overlay=$work/$overlay.yaml")
  else
    fail "kustomize could not render overlay $overlay"
  fi
done

if ((${#rendered[@]})); then
  say "k8s-check: schemas (Kubernetes $k8s_version strict, vendored CRD schemas) and platform rules"
  "$tools/k8s/bin/python" "$here/validate.py" --root "$root" --k8s-version "$k8s_version" "${rendered[@]}" \
    || fail "validation"

  say "k8s-check: checkov policies"
  checkov_files=()
  for item in "${rendered[@]}"; do checkov_files+=(-f "${item#*=}"); done
  (IFS=,; BC_SKIP_MAPPING=TRUE "$tools/checkov/bin/checkov" "${checkov_files[@]}" \
    --framework kubernetes --check "${checkov_checks[*]}" \
    --compact --quiet --skip-download) || fail "checkov"
fi

if ((failed)); then
  say "k8s-check: FAILED" >&2
  exit 1
fi
say "k8s-check: ok (overlays: ${overlays[*]}; Kubernetes schemas $k8s_version)"
