#!/usr/bin/env bash
# The Python client (clients/python): installs Debian's protoc, grpcio and
# protobuf packages when missing (scripts/install-protoc-deps.sh), builds
# taggerd and runs the client's unittest tests against it, on loopback.
# Closes with "python: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install-protoc-deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/taggerd" ./cmd/taggerd
export DOCTAGGER_TAGGERD="$tmp/taggerd" PYTHONDONTWRITEBYTECODE=1
rc=0
timeout 900 /usr/bin/python3 -m unittest discover -s clients/python/tests -v 2>&1 | tee "$tmp/log" || rc=$?
ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$tmp/log" | tail -1)
count() { sed -n "s/.*[(, ]$1=\([0-9]*\).*/\1/p" "$tmp/log" | tail -1; }
failed=$(( $(count failures || true) + $(count errors || true) + 0 ))
skipped=$(( $(count skipped || true) + 0 ))
ran=${ran:-0}
if [ "$ran" -eq 0 ]; then
  echo "python: no test ran (exit $rc)" >&2
  exit 1
fi
line="python: $((ran - failed - skipped)) passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "python: unittest exited $rc" >&2
fi
exit "$rc"
