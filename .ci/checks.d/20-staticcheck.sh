#!/usr/bin/env bash
# staticcheck, pinned in tools/go.mod beside buf.
set -euo pipefail
go tool -modfile=tools/go.mod staticcheck ./...
echo "staticcheck clean"
