#!/usr/bin/env bash
# go.mod and go.sum must be tidy: what the code imports, no more, no less.
set -euo pipefail
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result"
  exit 1
fi
