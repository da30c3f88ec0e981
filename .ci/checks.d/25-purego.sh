#!/usr/bin/env bash
# The engine's Go loops: on amd64 the hottest ones run in assembly
# (tagger/wordcache_amd64.s); -tags purego and other architectures use the
# Go versions, which the tests also hold the assembly to.
set -euo pipefail
go vet -tags purego ./tagger
go test -count=1 -tags purego ./tagger
GOARCH=arm64 go vet ./tagger
