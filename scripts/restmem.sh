#!/usr/bin/env bash
# Peak memory of taggerd under the deploy/ settings (--max-message-bytes
# 16 MiB, so 18 MiB REST bodies; GOMEMLIMIT 512Mi as the pod's limit) while
# CONCURRENT clients each send a REST batch body just under the body limit,
# ROUNDS times: declared length, then chunked (no length), then gzip.
# Reports the server's peak RSS (VmHWM) after each kind, against the pod's
# 512Mi. Loopback only; about a minute.
#
#   scripts/restmem.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONCURRENT=${CONCURRENT:-4}
ROUNDS=${ROUNDS:-3}
MAX_MESSAGE=${MAX_MESSAGE:-16777216}

source scripts/lib/taggerd.sh
start_taggerd GOMEMLIMIT=536870912 -- --max-message-bytes "$MAX_MESSAGE"

# A batch of 250 documents, windows of the corpus's news (or of the test
# document): just under the body limit as JSON, so the body is read and
# decoded whole (the batch and message limits then refuse it: 400/413).
limit=$((MAX_MESSAGE + MAX_MESSAGE / 8))
src=${CORPUS:-../shared/corpus/vi-news-10mb.jsonl}
[ -f "$src" ] || src=scripts/testdata/doc-2kb.txt
go run ./scripts/loadclient -mode bigbatch -bytes "$((limit - 4096))" -file "$src" >"$work/body.json"
gzip -c "$work/body.json" >"$work/body.json.gz"
echo "taggerd on $http; body $(wc -c <"$work/body.json") bytes (limit $limit), gzip $(wc -c <"$work/body.json.gz") bytes; $CONCURRENT at once, $ROUNDS rounds"
rss() { awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {printf "RSS %d MiB, peak %d MiB", r/1024, h/1024}' /proc/$server_pid/status; }
echo "idle: $(rss)"

send() { # kind
  local pids=() i r code
  for r in $(seq "$ROUNDS"); do
    pids=()
    for i in $(seq "$CONCURRENT"); do
      case "$1" in
        length) curl -sS -o /dev/null -w '%{http_code}\n' --max-time 120 -H 'Content-Type: application/json' \
          --data-binary @"$work/body.json" "http://$http/v1/documents:batchTag" >"$work/code.$i" & ;;
        chunked) curl -sS -o /dev/null -w '%{http_code}\n' --max-time 120 -H 'Content-Type: application/json' \
          -H 'Transfer-Encoding: chunked' --data-binary @"$work/body.json" "http://$http/v1/documents:batchTag" >"$work/code.$i" & ;;
        gzip) curl -sS -o /dev/null -w '%{http_code}\n' --max-time 120 -H 'Content-Type: application/json' \
          -H 'Content-Encoding: gzip' --data-binary @"$work/body.json.gz" "http://$http/v1/documents:batchTag" >"$work/code.$i" & ;;
      esac
      pids+=($!)
    done
    wait "${pids[@]}"
  done
  code=$(sort "$work"/code.* | uniq -c | tr -s ' ' | tr '\n' ',')
  echo "$1: HTTP${code%,}; $(rss)"
}
send length
send chunked
send gzip
echo "pod limit: 512 MiB"
