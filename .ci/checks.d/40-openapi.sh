#!/usr/bin/env bash
# The OpenAPI 3 document of the REST API, api/tagger/v1/tagger.openapi.json
# (scripts/gen-openapi.sh makes it; 10-generated.sh has checked that it is
# fresh): Redocly CLI lints it (tools/openapi-lint/redocly.yaml), then
# openapi-typescript turns it into TypeScript types and tsc compiles
# tools/openapi-lint/check.ts against them, so a generator takes it and its
# types say what the server does. The npm packages are pinned by
# tools/openapi-lint/package-lock.json (npm ci; node_modules is git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../../tools/openapi-lint"
spec=../../api/tagger/v1/tagger.openapi.json
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: the OpenAPI document cannot be linted" >&2
  exit 1
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
npm ci --no-audit --no-fund --loglevel=error >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
lint=0
npx --no-install redocly lint --config redocly.yaml --format stylish "$spec" >"$log" 2>&1 || lint=$?
grep -v -e '^ *[║╔╚]' -e '^ *$' "$log" || true # without the Node.js banner
if [ "$lint" -ne 0 ]; then
  echo "redocly lint failed on $spec" >&2
  exit 1
fi
rm -rf out
npx --no-install openapi-typescript "$spec" --output out/tagger.d.ts
npx --no-install tsc -p tsconfig.json
echo "OpenAPI document: Redocly lint clean; openapi-typescript types compile with check.ts"
