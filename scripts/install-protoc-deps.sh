#!/usr/bin/env bash
# Installs, from Debian's packages, what the Python client needs when it is
# missing: protoc and the gRPC Python plugin (scripts/gen-python.sh) and the
# grpcio and protobuf runtimes for /usr/bin/python3 (clients/python/tests).
# Used by scripts/gen-python.sh and .ci/checks.d/60-python.sh.
# Non-interactive; needs root (CI) or passwordless sudo. Quiet when all is
# already there.
set -euo pipefail

have_all() {
  [ -x /usr/bin/protoc ] && [ -x /usr/bin/grpc_python_plugin ] &&
    /usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1
}
if have_all; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install protoc 3.21.12, grpc_python_plugin and grpcio/protobuf for /usr/bin/python3 by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "not root and no passwordless sudo: cannot install protobuf-compiler, protobuf-compiler-grpc, python3-grpcio, python3-protobuf" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing protoc, the gRPC Python plugin and python3-grpcio (apt-get)" >&2
$sudo apt-get update -qq
$sudo apt-get install -y -qq protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf >/dev/null
have_all || { echo "the packages are installed but protoc, grpc_python_plugin or python3's grpc is still missing" >&2; exit 1; }
