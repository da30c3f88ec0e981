#!/usr/bin/env bash
# buf lint (STANDARD) and freshness of the generated code in api/:
# regenerates with scripts/gen.sh and fails when anything under api/ changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/gen.sh
if ! git diff --exit-code --stat -- api/ || [ -n "$(git status --porcelain --untracked-files=all -- api/)" ]; then
  echo "generated code in api/ is stale: run scripts/gen.sh and commit the result" >&2
  git status --porcelain -- api/ >&2
  exit 1
fi
echo "generated code is fresh; buf lint clean"
