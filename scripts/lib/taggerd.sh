# Sourced by the load scripts: a work directory removed on exit, and
# start_taggerd, which builds taggerd from this tree and starts it on
# loopback ports of its own.
#
#   source scripts/lib/taggerd.sh
#   start_taggerd [ENV=VALUE ...] -- [taggerd flags ...]
#   # then: $server_pid, $grpc (host:port), $http (host:port, or empty)

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_taggerd() {
  local env=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  go build -o "$work/taggerd" ./cmd/taggerd
  env "${env[@]}" "$work/taggerd" --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --log-format json "$@" 2>"$work/taggerd.log" &
  server_pid=$!
  for _ in $(seq 100); do grep -q '"taggerd serving"' "$work/taggerd.log" 2>/dev/null && break; sleep 0.1; done
  grpc=$(sed -n 's/.*"taggerd serving".*"grpc":"\([^"]*\)".*/\1/p' "$work/taggerd.log" | head -1)
  http=$(sed -n 's/.*"taggerd serving".*"http":"\([^"]*\)".*/\1/p' "$work/taggerd.log" | head -1)
  case "$grpc" in
    127.0.0.1:*) ;;
    *) echo "taggerd did not start on loopback:"; cat "$work/taggerd.log"; exit 1 ;;
  esac
}
