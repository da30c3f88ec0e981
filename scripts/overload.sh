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

source scripts/lib/taggerd.sh
go build -o "$work/overload" ./scripts/overload

# The deploy/ settings, read from the manifest so the two cannot drift.
args=$(sed -n 's/^ *- \(--max-[a-z-]*=[0-9]*\)$/\1/p' deploy/deployment.yaml | tr '\n' ' ')
memlimit=$(grep -A1 'name: GOMEMLIMIT' deploy/deployment.yaml | sed -n 's/.*value: "\(.*\)"/\1/p')
echo "taggerd with the deploy/ settings: $args GOMEMLIMIT=$memlimit"
# shellcheck disable=SC2086
start_taggerd GOMEMLIMIT="$memlimit" -- $args

"$work/overload" -addr "$grpc" -pid "$server_pid" -unary "$UNARY" -streams "$STREAMS" -d "$DURATION"
echo "pod memory limit: 512 MiB"
