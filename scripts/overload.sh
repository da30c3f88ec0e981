#!/usr/bin/env bash
# Overload test (issue 13): one taggerd with the deploy/ settings
# (--max-message-bytes 16 MiB, the in-flight bounds and GOMEMLIMIT of
# deploy/deployment.yaml, whose pods have 512Mi), driven by UNARY concurrent unary
# callers plus STREAMS streams that never read, for DURATION, on loopback.
# Reports peak RSS against the pod's 512 MiB, the codes the callers got, the
# p99 of the calls that succeeded, and how soon the server answers normally
# after the load stops. About a minute.
#
#   scripts/overload.sh
#   UNARY=512 STREAMS=1000 DURATION=20s scripts/overload.sh
set -euo pipefail
cd "$(dirname "$0")/.."
UNARY=${UNARY:-512}
STREAMS=${STREAMS:-1000}
DURATION=${DURATION:-20s}

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/taggerd" ./cmd/taggerd
go build -o "$work/overload" ./scripts/overload

# The deploy/ settings, read from the manifest so the two cannot drift.
args=$(sed -n 's/^ *- \(--max-[a-z-]*=[0-9]*\)$/\1/p' deploy/deployment.yaml | tr '\n' ' ')
memlimit=$(grep -A1 'name: GOMEMLIMIT' deploy/deployment.yaml | sed -n 's/.*value: "\(.*\)"/\1/p')
echo "taggerd with the deploy/ settings: $args GOMEMLIMIT=$memlimit"
# shellcheck disable=SC2086
GOMEMLIMIT=$memlimit "$work/taggerd" --grpc-addr 127.0.0.1:0 --http-addr "" --log-format json $args 2>"$work/taggerd.log" &
server_pid=$!
for _ in $(seq 100); do grep -q '"taggerd serving"' "$work/taggerd.log" 2>/dev/null && break; sleep 0.1; done
grpc=$(sed -n 's/.*"taggerd serving".*"grpc":"\([^"]*\)".*/\1/p' "$work/taggerd.log" | head -1)
case "$grpc" in 127.0.0.1:*) ;; *) echo "taggerd did not start on loopback:"; cat "$work/taggerd.log"; exit 1 ;; esac

"$work/overload" -addr "$grpc" -pid "$server_pid" -unary "$UNARY" -streams "$STREAMS" -d "$DURATION"
echo "pod memory limit: 512 MiB"
