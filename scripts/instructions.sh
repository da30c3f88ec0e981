#!/usr/bin/env bash
# Instructions of one pass of a tagger benchmark under cachegrind: the
# count of 3 iterations minus that of 1, halved, with the collector off
# (GOGC=off), so the figure is the same on every run of this shared
# machine, unlike wall-clock timings. Needs valgrind (apt-get install
# valgrind) and the 10 MB corpus the benchmark reads.
#
#   scripts/instructions.sh                 # BenchmarkTagDefault
#   scripts/instructions.sh 'Tag10k$'       # another benchmark
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-'TagDefault$'}
command -v valgrind >/dev/null || { echo "valgrind is not installed: apt-get install valgrind" >&2; exit 2; }
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./tagger
count() {
	(cd tagger && GOGC=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$bin" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$1" -test.cpu 1 2>&1) |
		awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}
one=$(count 1x)
three=$(count 3x)
[ -n "$one" ] && [ -n "$three" ] || { echo "no count from cachegrind (is the corpus there?)" >&2; exit 1; }
# A skipped benchmark (no corpus) costs next to nothing a pass.
awk -v a="$one" -v b="$three" -v n="$BENCH" 'BEGIN {
	m = (b - a) / 2 / 1e6
	if (m < 1) { print n ": under 1 M instructions a pass: was the benchmark skipped (no corpus; set DOCTAGGER_BENCH_CORPUS)?" > "/dev/stderr"; exit 1 }
	printf "%s: %.1f M instructions a pass\n", n, m }'
