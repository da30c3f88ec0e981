#!/usr/bin/env bash
# Regenerates the generated code from the protos: the Go and OpenAPI code of
# api/ (offline: buf is pinned in tools/go.mod, the protoc plugins are `tool`
# lines in go.mod), then each scripts/gen-*.sh in name order (the Python and
# TypeScript clients' stubs, the OpenAPI 3 document).
#   scripts/gen.sh          regenerate
#   scripts/gen.sh lint     buf lint only
set -euo pipefail
cd "$(dirname "$0")/.."
buf() { go tool -modfile=tools/go.mod buf "$@"; }
buf lint
[ "${1:-}" = lint ] && exit 0
buf generate --path api/tagger
for gen in scripts/gen-*.sh; do
  [ -e "$gen" ] || continue
  bash "$gen"
done
