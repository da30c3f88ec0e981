#!/usr/bin/env bash
# Installs, from Debian's packages, what the Python client needs when it is
# missing: protoc and the gRPC Python plugin (scripts/gen-python.sh) and the
# grpcio and protobuf runtimes for /usr/bin/python3 (clients/python/tests).
# Used by scripts/gen-python.sh and .ci/checks.d/60-python.sh.
# Non-interactive; needs root (CI) or passwordless sudo. Quiet when all is
# already there.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

have_all() {
  [ -x /usr/bin/protoc ] && [ -x /usr/bin/grpc_python_plugin ] &&
    /usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1
}
if have_all; then
  exit 0
fi
apt_install "protoc, the gRPC Python plugin and python3-grpcio" \
  protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf ||
  { echo "install protoc 3.21.12, grpc_python_plugin and grpcio/protobuf for /usr/bin/python3 by hand" >&2; exit 1; }
have_all || { echo "the packages are installed but protoc, grpc_python_plugin or python3's grpc is still missing" >&2; exit 1; }
