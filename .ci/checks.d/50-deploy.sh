#!/usr/bin/env bash
# deploy/: the kustomize manifests build (kustomize pinned; it is fetched
# through the Go module proxy and cached after the first run).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
(cd /tmp && GOFLAGS= go run sigs.k8s.io/kustomize/kustomize/v5@v5.8.2 build "$OLDPWD/deploy") >"$out"
for kind in Namespace ConfigMap Deployment Service HorizontalPodAutoscaler PodDisruptionBudget; do
  grep -q "^kind: $kind\$" "$out" || { echo "kustomize build deploy/ has no $kind" >&2; exit 1; }
done
echo "kustomize build deploy/: $(grep -c '^kind:' "$out") objects"
