#!/usr/bin/env bash
# deploy/: the kustomize manifests build (kustomize pinned; it is fetched
# through the Go module proxy and cached after the first run): the service
# (deploy/), the batch job recipe (deploy/batch/), and the service with the
# monitoring component (deploy/monitoring/) enabled.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
overlay=$(mktemp -d)
trap 'rm -rf "$out" "$overlay"' EXIT
build() { # dir (relative to the repository, or absolute)
  local dir=$1
  [[ $dir == /* ]] || dir=$PWD/$dir
  (cd /tmp && GOFLAGS= go run sigs.k8s.io/kustomize/kustomize/v5@v5.8.2 build "$dir") >"$out"
}
check() { # dir kinds...
  local dir=$1
  shift
  for kind in "$@"; do
    grep -q "^kind: $kind\$" "$out" || { echo "kustomize build $dir has no $kind" >&2; exit 1; }
  done
  echo "kustomize build $dir: $(grep -c '^kind:' "$out") objects"
}
build deploy
check deploy/ Namespace ConfigMap Deployment Service HorizontalPodAutoscaler PodDisruptionBudget
build deploy/batch
check deploy/batch/ Job PersistentVolumeClaim
grep -q 'completionMode: Indexed' "$out" || { echo "deploy/batch: the Job is not Indexed" >&2; exit 1; }
# The monitoring component, enabled from an overlay as docs/deploy.md shows
# (outside deploy/: kustomize refuses an overlay inside a directory it
# includes; and relative paths: it refuses absolute ones).
rel=$(realpath --relative-to="$overlay" deploy)
printf '%s\n' 'apiVersion: kustomize.config.k8s.io/v1beta1' 'kind: Kustomization' \
  'resources:' "  - $rel" 'components:' "  - $rel/monitoring" >"$overlay/kustomization.yaml"
build "$overlay"
check deploy/monitoring/ ServiceMonitor ConfigMap Deployment Service
grep -q 'grafana_dashboard: "1"' "$out" || { echo "deploy/monitoring: no ConfigMap labelled grafana_dashboard" >&2; exit 1; }
