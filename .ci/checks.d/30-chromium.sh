#!/usr/bin/env bash
# Installs Debian's chromium for the playground's browser test (web/browser_test.go)
# when it is missing. Non-interactive; needs root (CI) or passwordless sudo.
# Quiet when chromium is already installed.
set -euo pipefail

if [ -x /usr/bin/chromium ] || [ -n "${DOCTAGGER_CHROMIUM:-}" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: the browser test will skip (install chromium or set DOCTAGGER_CHROMIUM)" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "not root and no passwordless sudo: cannot install chromium; the browser test will skip" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing chromium (apt-get) for the browser test"
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
