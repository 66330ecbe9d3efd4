#!/usr/bin/env bash
# Instructions per request, counted by callgrind: an example runs N1 and N2 requests, and
# (I(N2) - I(N1)) / (N2 - N1) leaves the set-up out. Counts are stable on a busy machine.
#
#   scripts/callgrind.sh [WHAT] [N1 N2]
#
# WHAT: `abi` (default): a client-credentials request through the C ABI (examples/abi_loop.rs);
# `client_credentials`, `password`, `code` or `refresh`: one round of that grant through
# Engine::handle, shaped like the Python benchmark app (examples/grant_loop.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
what=abi
case "${1:-}" in
  abi|client_credentials|password|code|refresh) what=$1; shift ;;
esac
n1=${1:-2000}
n2=${2:-12000}
command -v valgrind >/dev/null || scripts/setup-system.sh
dir=${CARGO_TARGET_DIR:-target}/release/examples
if [ "$what" = abi ]; then
  cargo build --release --example abi_loop -q
  run=("$dir/abi_loop")
else
  cargo build --release --example grant_loop -q
  run=("$dir/grant_loop" "$what")
fi
count() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "${run[@]}" "$1" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
  rm -f "$out"
}
i1=$(count "$n1")
i2=$(count "$n2")
echo "$what: instructions per request: $(( (i2 - i1) / (n2 - n1) )) (callgrind, N=$n1 and N=$n2)"
