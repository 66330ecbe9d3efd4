#!/usr/bin/env bash
# Client-credentials requests through oauth2.web.wsgi.Application, in-process: this package
# (.venv, built by scripts/python-env.sh) against python-oauth2 1.1.1 from PyPI in a throwaway
# venv, alternating, in the same run. Usage: bindings/python/bench/compare.sh [requests] [rounds]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
N="${1:-10000}"
ROUNDS="${2:-3}"
OLD="${OLD_VENV:-${TMPDIR:-/tmp}/python-oauth2-1.1.1-venv}"
if [ ! -x "$OLD/bin/python" ]; then
    python3 -m venv "$OLD"
    "$OLD/bin/python" -m pip install --quiet "python-oauth2==1.1.1"
fi
BENCH="$ROOT/bindings/python/bench/wsgi_client_credentials.py"
cd "${TMPDIR:-/tmp}"   # never import the source tree's oauth2 by accident
for _ in $(seq "$ROUNDS"); do
    "$OLD/bin/python" "$BENCH" "$N"
    "$ROOT/.venv/bin/python" "$BENCH" "$N"
done | tee /dev/stderr | awk '
    / 1\.1\.1:/ { old += $3; o++ }
    !/ 1\.1\.1:/ { new += $3; n++ }
    END { printf "mean: python-oauth2 1.1.1 %.2f us, oauth2 (this) %.2f us, speed-up %.1fx\n",
                 old / o, new / n, (old / o) / (new / n) }'
