# Sourced by the scripts that install Debian packages a check needs:
# apt_install runs apt-get non-interactively as root or through passwordless
# sudo, and fails with a message naming the packages when it cannot.
#
#   source scripts/lib/apt.sh
#   apt_install "why (shown while installing)" PACKAGE ...

apt_install() {
  local why=$1; shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: cannot install $*" >&2
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "not root and no passwordless sudo: cannot install $*" >&2
      return 1
    fi
  fi
  echo "installing $why (apt-get: $*)" >&2
  # Through env: sudo's env_reset would drop a variable set before it.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
