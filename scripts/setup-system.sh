#!/usr/bin/env bash
# Installs the system packages the build and the tests need, when they are missing.
# Idempotent; needs root (or sudo) only when something is actually missing.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in build-essential pkg-config libmicrohttpd-dev valgrind python3-venv; do
  have_pkg "$pkg" || need+=("$pkg")
done
command -v curl >/dev/null || need+=(curl)

if [ "${#need[@]}" -gt 0 ]; then
  echo "setup-system: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup-system: ok"
