#!/usr/bin/env bash
# Regenerates the Go and OpenAPI code of api/ from the protos, offline:
# buf is pinned in tools/go.mod, the protoc plugins are `tool` lines in go.mod.
#   scripts/gen.sh          regenerate
#   scripts/gen.sh lint     buf lint only
set -euo pipefail
cd "$(dirname "$0")/.."
buf() { go tool -modfile=tools/go.mod buf "$@"; }
buf lint
[ "${1:-}" = lint ] && exit 0
buf generate --path api/tagger
