#!/usr/bin/env bash
# Load test of taggerd on loopback, bounded in time (about 4 minutes with the
# defaults). Installs its tools (ghz, hey) with `go install` into
# $LOAD_TOOLS (default ~/.cache/doctagger/load-tools) if they are missing.
#
#   scripts/load.sh                      # all of it
#   DURATION=5s STREAM_DOCS=200000 scripts/load.sh
#
# Measures, against one taggerd built from this tree (embedded rules):
#   1. ghz: TagDocument of a ~2 KB Vietnamese document vs the empty health
#      Check, same concurrency and duration, and their ratio;
#   2. the same two with the Go load client (scripts/loadclient), in ROUNDS
#      interleaved pairs with their median ratio, for that document and for
#      a real 2 KB news article of the corpus ($CORPUS, if present);
#   3. hey: POST /v1/documents:tag over REST;
#   4. StreamTagDocuments: documents per second over one stream of
#      STREAM_DOCS documents, with the server's RSS sampled along the way;
#   5. the REST NDJSON stream: curl --data-binary of NDJSON_DOCS lines.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONC=${CONC:-50}
CONNS=${CONNS:-4}
STREAM_DOCS=${STREAM_DOCS:-1000000}
NDJSON_DOCS=${NDJSON_DOCS:-50000}
DOC=${DOC:-scripts/testdata/doc-2kb.txt}
CORPUS=${CORPUS:-../shared/corpus/vi-news-10mb.jsonl} # for a real 2 KB article, if present
ARTICLE_SKIP=${ARTICLE_SKIP:-1}
ROUNDS=${ROUNDS:-5}
ROUND_DURATION=${ROUND_DURATION:-4s}
LOAD_TOOLS=${LOAD_TOOLS:-$HOME/.cache/doctagger/load-tools}
GHZ_VERSION=v0.120.0
HEY_VERSION=v0.1.5

mkdir -p "$LOAD_TOOLS"
[ -x "$LOAD_TOOLS/ghz" ] || GOBIN="$LOAD_TOOLS" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
[ -x "$LOAD_TOOLS/hey" ] || GOBIN="$LOAD_TOOLS" go install "github.com/rakyll/hey@$HEY_VERSION"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/taggerd" ./cmd/taggerd
go build -o "$work/loadclient" ./scripts/loadclient

"$work/taggerd" --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --log-format json --log-level info \
  --max-batch-documents 1000 2>"$work/taggerd.log" &
server_pid=$!
for _ in $(seq 100); do grep -q '"taggerd serving"' "$work/taggerd.log" 2>/dev/null && break; sleep 0.1; done
grpc=$(sed -n 's/.*"taggerd serving".*"grpc":"\([^"]*\)".*/\1/p' "$work/taggerd.log" | head -1)
http=$(sed -n 's/.*"taggerd serving".*"http":"\([^"]*\)".*/\1/p' "$work/taggerd.log" | head -1)
[ -n "$grpc" ] && [ -n "$http" ] || { echo "taggerd did not start:"; cat "$work/taggerd.log"; exit 1; }
case "$grpc$http" in 127.0.0.1:*127.0.0.1:*) ;; *) echo "refusing a non-loopback address"; exit 1 ;; esac

echo "taggerd pid $server_pid, gRPC $grpc, HTTP $http; document $DOC ($(wc -c <"$DOC") bytes)"
echo "nproc $(nproc); $(go version)"
b64=$(base64 -w0 "$DOC")
json_text=$(go run ./scripts/loadclient -mode jsonstring -file "$DOC")
printf '{"document":{"id":"load","text":"%s"}}' "$b64" >"$work/ghz-tag.json"
printf '{"document":{"id":"load","text":%s}}' "$json_text" >"$work/rest-tag.json"

rps() { sed -n 's/.*Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' | head -1; }

echo; echo "== 1. ghz, $CONC concurrent calls on $CONNS connections for $DURATION"
"$LOAD_TOOLS/ghz" --insecure --call tagger.v1.TaggerService.TagDocument -D "$work/ghz-tag.json" \
  -c "$CONC" --connections "$CONNS" -z "$DURATION" "$grpc" >"$work/ghz-tag.txt"
"$LOAD_TOOLS/ghz" --insecure --call grpc.health.v1.Health.Check -d '{}' \
  -c "$CONC" --connections "$CONNS" -z "$DURATION" "$grpc" >"$work/ghz-health.txt"
tag_rps=$(rps <"$work/ghz-tag.txt"); health_rps=$(rps <"$work/ghz-health.txt")
grep -E 'Average|99 % in|\[OK\]' "$work/ghz-tag.txt" | sed 's/^ */  TagDocument /'
grep -E 'Average|99 % in|\[OK\]' "$work/ghz-health.txt" | sed 's/^ */  Health.Check /' 
echo "  ghz TagDocument:  $tag_rps requests/s"
echo "  ghz Health.Check: $health_rps requests/s"
awk -v a="$tag_rps" -v b="$health_rps" 'BEGIN { printf "  ratio: %.0f%% (target >= 70%%)\n", 100*a/b }'

echo; echo "== 2. Go load client, same load: $ROUNDS rounds of health then TagDocument, $ROUND_DURATION each, median ratio"
# One pair of runs swings by ±20% on a shared machine; interleaved rounds
# and their median say more.
docs=("$DOC")
if [ -f "$CORPUS" ]; then
  "$work/loadclient" -mode article -file "$CORPUS" -bytes 2000 -skip "$ARTICLE_SKIP" >"$work/article.txt"
  docs+=("$work/article.txt")
else
  echo "  ($CORPUS not found: the dense test document only)"
fi
for d in "${docs[@]}"; do
  ratios=()
  for _ in $(seq "$ROUNDS"); do
    h=$("$work/loadclient" -addr "$grpc" -mode health -c "$CONC" -conns "$CONNS" -d "$ROUND_DURATION" | sed -n 's/.*= \([0-9]*\) requests.*/\1/p')
    t=$("$work/loadclient" -addr "$grpc" -mode unary -file "$d" -c "$CONC" -conns "$CONNS" -d "$ROUND_DURATION" | sed -n 's/.*= \([0-9]*\) requests.*/\1/p')
    ratios+=("$(awk -v a="$t" -v b="$h" 'BEGIN { printf "%.1f", 100*a/b }')")
    echo "  $(basename "$d"): TagDocument $t requests/s, health $h requests/s"
  done
  median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }')
  echo "  $(basename "$d") ($(wc -c <"$d") bytes): ratios ${ratios[*]}%; median $median% (target >= 70%)"
done

echo; echo "== 3. hey: REST POST /v1/documents:tag, $CONC concurrent for $DURATION"
"$LOAD_TOOLS/hey" -z "$DURATION" -c "$CONC" -m POST -T application/json -D "$work/rest-tag.json" \
  "http://$http/v1/documents:tag" >"$work/hey.txt"
grep -E 'Requests/sec|Average|99%|^[[:space:]]*\[[0-9]{3}\]' "$work/hey.txt" | sed 's/^ */  /'

echo; echo "== 4. StreamTagDocuments: $STREAM_DOCS documents over one stream"
"$work/loadclient" -addr "$grpc" -mode stream -file "$DOC" -n "$STREAM_DOCS" -pid "$server_pid" -timeout 5m | sed 's/^/  /'

echo; echo "== 5. REST NDJSON stream: $NDJSON_DOCS lines through curl --data-binary"
line=$(cat "$work/rest-tag.json")
for _ in $(seq "$NDJSON_DOCS"); do echo "$line"; done >"$work/docs.ndjson"
start=$(date +%s.%N)
curl -sS --max-time 300 --data-binary @"$work/docs.ndjson" -H 'Content-Type: application/x-ndjson' \
  "http://$http/v1/documents:streamTag" >"$work/ndjson.out"
end=$(date +%s.%N)
results=$(grep -c '"result"' "$work/ndjson.out" || true)
errors=$(grep -c '"error"' "$work/ndjson.out" || true)
awk -v n="$results" -v e="$errors" -v s="$start" -v t="$end" \
  'BEGIN { printf "  %d results (%d error lines) in %.2fs = %.0f documents/s\n", n, e, t-s, n/(t-s) }'

echo; echo "server RSS at the end: $(grep VmRSS /proc/$server_pid/status | awk '{print int($2/1024) "MB"}')"
