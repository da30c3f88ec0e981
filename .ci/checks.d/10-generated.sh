#!/usr/bin/env bash
# buf lint (STANDARD) and freshness of the generated code in api/ and
# clients/: regenerates with scripts/gen.sh and fails when anything there
# changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/gen.sh
if ! git diff --exit-code --stat -- api/ clients/ || [ -n "$(git status --porcelain --untracked-files=all -- api/ clients/)" ]; then
  echo "generated code in api/ or clients/ is stale: run scripts/gen.sh and commit the result" >&2
  git status --porcelain -- api/ clients/ >&2
  exit 1
fi
echo "generated code is fresh; buf lint clean"
