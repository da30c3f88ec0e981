#!/usr/bin/env bash
# deploy/: the kustomize manifests build (kustomize pinned; it is fetched
# through the Go module proxy and cached after the first run): the service
# (deploy/) and the batch job recipe (deploy/batch/).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build() { (cd /tmp && GOFLAGS= go run sigs.k8s.io/kustomize/kustomize/v5@v5.8.2 build "$OLDPWD/$1") >"$out"; }
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
