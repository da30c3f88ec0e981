#!/usr/bin/env bash
# The Node client (clients/node): npm ci (the pinned packages of its
# package-lock.json), tsc, then its tests with node's test runner against
# the real taggerd, built here once and started by the tests on 127.0.0.1
# with ports the kernel picks. Ends with "node: N passed, 0 failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node and npm are needed for the Node client's tests (Node 20 or later)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "the Node client needs Node 20 or later, have $(node --version)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "npm ci (clients/node)"
(cd clients/node && timeout 300 npm ci --no-audit --no-fund --loglevel=error)

echo "go build ./cmd/taggerd"
go build -o "$tmp/taggerd" ./cmd/taggerd

cd clients/node
rm -rf dist
node_modules/.bin/tsc -p .
out="$tmp/node-test.tap"
status=0
DOCTAGGER_TAGGERD="$tmp/taggerd" timeout 600 \
  node --test --test-reporter=tap --test-concurrency=1 --test-timeout=180000 dist/test/*.test.js \
  | tee "$out" || status=$?
pass=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$out" | tail -1)
fail=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$out" | tail -1)
if [ "$status" -ne 0 ] || [ -z "$pass" ] || [ "${fail:-1}" != 0 ] || [ "$pass" -eq 0 ]; then
  echo "node client tests failed (exit $status, pass ${pass:-?}, fail ${fail:-?})" >&2
  exit 1
fi
echo "node: $pass passed, 0 failed"
