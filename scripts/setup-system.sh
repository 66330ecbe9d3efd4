#!/usr/bin/env bash
# Installs Debian packages when they are missing: with no arguments, what the build and the
# tests need; with arguments, those packages (the bench scripts ask for wrk and llvm-19 this
# way). Idempotent; needs root (or sudo) only when something is actually missing.
#
#   scripts/setup-system.sh [PACKAGE...]
set -euo pipefail

wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=(build-essential pkg-config libmicrohttpd-dev valgrind python3-venv curl)

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in "${wanted[@]}"; do
  have_pkg "$pkg" || need+=("$pkg")
done

if [ "${#need[@]}" -gt 0 ]; then
  echo "setup-system: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup-system: ok" >&2
