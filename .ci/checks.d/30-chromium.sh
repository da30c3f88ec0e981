#!/usr/bin/env bash
# Installs Debian's chromium for the playground's browser test (web/browser_test.go)
# when it is missing. Non-interactive; needs root (CI) or passwordless sudo.
# Quiet when chromium is already installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/apt.sh

if [ -x /usr/bin/chromium ] || [ -n "${DOCTAGGER_CHROMIUM:-}" ]; then
  exit 0
fi
if ! apt_install "chromium for the browser test" chromium; then
  echo "the browser test will skip (install chromium or set DOCTAGGER_CHROMIUM)" >&2
  exit 0
fi
/usr/bin/chromium --version
