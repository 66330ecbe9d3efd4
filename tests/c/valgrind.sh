#!/usr/bin/env bash
# Builds the C host programs of tests/c/ without AddressSanitizer and runs each under valgrind
# (memcheck): any memory error or any leak, of any kind ("still reachable" included), fails.
#
# Requires: valgrind, a C compiler (cc), cargo. Usage: bash tests/c/valgrind.sh
# Environment:
#   CARGO_TARGET_DIR       where cargo builds (default: target/)
#   O2E_THREAD_ITERS       requests per thread for the threads program (default here: 400,
#                          instead of the 10 000 of the ASan run: valgrind serialises the 8
#                          threads and runs each instruction ~50x slower)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --lib -j 2 --quiet
lib="$target/debug/liboauth2_engine.a"
[ -f "$lib" ] || { echo "valgrind.sh: $lib was not built" >&2; exit 2; }
out="$target/debug/capi-valgrind"
mkdir -p "$out"

export O2E_THREAD_ITERS="${O2E_THREAD_ITERS:-400}"

programs=(
  "memory_store:tests/c/memory_store.c tests/c/common.c"
  "callbacks:tests/c/callbacks.c tests/c/store.c tests/c/common.c"
  "bad_input:tests/c/bad_input.c tests/c/store.c tests/c/common.c"
  "threads:tests/c/threads.c tests/c/common.c"
)

failed=0
summary=()
for entry in "${programs[@]}"; do
  name="${entry%%:*}"
  # shellcheck disable=SC2086
  cc -std=c99 -Wall -Wextra -Werror -g -O1 -Iinclude -Itests/c ${entry#*:} "$lib" \
     -lpthread -ldl -lm -o "$out/$name"
  log="$out/$name.valgrind.log"
  if valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
       --error-exitcode=1 --log-file="$log" "$out/$name" >"$out/$name.stdout" 2>"$out/$name.stderr"; then
    result="ok"
  else
    result="FAILED (exit $?)"
    failed=1
    cat "$out/$name.stdout" "$out/$name.stderr" "$log" >&2
  fi
  errors="$(grep -E 'ERROR SUMMARY' "$log" | tail -1 | sed 's/^==[0-9]*== *//')"
  heap="$(grep -E 'in use at exit' "$log" | tail -1 | sed 's/^==[0-9]*== *//')"
  summary+=("$name: $result; $errors; $heap")
done

echo "valgrind summary:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
