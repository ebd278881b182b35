#!/usr/bin/env bash
# Build the container images of the four services (make images).
#
#   bash deploy/images.sh                       # tag = git describe of HEAD
#   IMAGE_TAG=0.1.0 IMAGE_REGISTRY=registry.example.org/milan-commerce IMAGE_PUSH=1 bash deploy/images.sh
#
# Uses the first container engine that actually works: docker (with a
# reachable daemon), podman, or buildah. Where none works it says why and
# exits 0, so `make images` is harmless on machines without an engine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
registry="${IMAGE_REGISTRY:-milan-commerce}"
tag="${IMAGE_TAG:-$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || true)}"
push="${IMAGE_PUSH:-0}"
services=(markets shops districts gateway)
declare -A ports=([markets]=8001 [shops]=8002 [districts]=8003 [gateway]=8000)
dockerfile="$repo/deploy/Dockerfile"

if [[ -z "$tag" || "$tag" == "latest" ]]; then
  echo "images: set IMAGE_TAG to a version (the 'latest' tag is not used)" >&2
  exit 1
fi

engine=""
tried=()
for candidate in docker podman buildah; do
  if ! command -v "$candidate" >/dev/null 2>&1; then
    continue
  fi
  if output="$(timeout 20 "$candidate" info 2>&1)"; then
    engine="$candidate"
    break
  fi
  reason="$(grep -m1 -iE 'error|cannot|denied|permission' <<<"$output" || true)"
  tried+=("$candidate is installed, but '$candidate info' fails${reason:+: $reason}")
done

if [[ -z "$engine" ]]; then
  echo "images: no working container engine here, so no image was built."
  if ((${#tried[@]})); then
    printf '  %s\n' "${tried[@]}"
  else
    echo "  none of docker, podman or buildah is installed."
  fi
  echo "  The images build from deploy/Dockerfile (--build-arg SERVICE=<name> --build-arg PORT=<port>)"
  echo "  with the repository root as build context;"
  echo "  run this script where docker (with its daemon), podman or buildah works, e.g. in the release pipeline."
  exit 0
fi

for service in "${services[@]}"; do
  image="$registry/$service:$tag"
  echo "images: building $image with $engine"
  build_args=(--build-arg "SERVICE=$service" --build-arg "PORT=${ports[$service]}")
  case "$engine" in
    buildah) buildah build --layers -f "$dockerfile" "${build_args[@]}" -t "$image" "$repo" ;;
    *) "$engine" build -f "$dockerfile" "${build_args[@]}" -t "$image" "$repo" ;;
  esac
  if [[ "$push" == "1" ]]; then
    "$engine" push "$image"
  fi
done
echo "images: built ${services[*]} as $registry/<service>:$tag"
