#!/usr/bin/env bash
# Instructions per client-credentials request through the C ABI, counted by callgrind: the
# example runs N1 and N2 requests, and (I(N2) - I(N1)) / (N2 - N1) leaves the set-up out.
set -euo pipefail
cd "$(dirname "$0")/.."
n1=${1:-2000}
n2=${2:-12000}
command -v valgrind >/dev/null || scripts/setup-system.sh
cargo build --release --example abi_loop -q
bin=${CARGO_TARGET_DIR:-target}/release/examples/abi_loop
count() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
  rm -f "$out"
}
i1=$(count "$n1")
i2=$(count "$n2")
echo "instructions per request: $(( (i2 - i1) / (n2 - n1) )) (callgrind, N=$n1 and N=$n2)"
