#!/usr/bin/env bash
# The Python benchmarks in one command (`make bench`): our package against python-oauth2 1.1.1,
# Authlib, oauthlib and a canned-response floor, in process, over loopback HTTP (wrk), across
# threads (ours also on its native Redis store: scripts/services.sh is run first), and in
# memory. Writes docs/benchmarks/{results.json,tables.md,chart.png} and rewrites
# docs/benchmarks.md from benches/python/benchmarks.md.in.
#
#   scripts/bench.sh                 everything; fails if our wheel cannot be built
#   scripts/bench.sh --peers-only    the peers alone (our rows stay marked as pending)
#   scripts/bench.sh --quick         a short smoke run into benches/python/.quick/ (docs untouched)
#   scripts/bench.sh --ours-source DIR   build our wheel from another checkout's bindings/python
#   scripts/bench.sh --plain         our wheel without profile-guided optimisation (see below)
#   scripts/bench.sh -- --rounds 9   anything after -- goes to benches/python/run.py
#
# Knobs (environment): BENCH_ROUNDS, BENCH_REQUESTS, BENCH_THREAD_ROUNDS, BENCH_THREAD_DURATION,
# BENCH_THREAD_COUNTS, BENCH_HTTP_ROUNDS, BENCH_HTTP_DURATION, BENCH_HTTP_CONNECTIONS,
# BENCH_SERVER_THREADS, BENCH_SERVERS, BENCH_TOKENS, BENCH_PHASES (see run.py). The defaults take
# about 5 minutes on a 2-core machine once the venvs exist.
#
# Our wheel is built as it ships: with profile-guided optimisation (scripts/wheel.sh --pgo: an
# instrumented build trained on the four workloads, then the optimised build), which doubles
# its build time; --plain measures the plain `wheel`-profile build that `pip install` of the
# sources makes.
#
# Each library gets its own venv under benches/python/.venvs/ (python-oauth2 and our package both
# install the top-level module `oauth2`, so they can never share one); venvs are reused while
# their requirement line is unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/benches/python"
VENVS="${BENCH_VENVS:-$BENCH/.venvs}"
PYTHON="${PYTHON:-python3}"

# Pinned so that a rerun measures the same code; docs/benchmarks.md records what ran.
SERVERS_REQ="cheroot==11.1.2 waitress==3.0.2 granian==2.8.9"
PO2_REQ="python-oauth2==1.1.1"
AUTHLIB_REQ="Authlib==1.9.10"
OAUTHLIB_REQ="oauthlib==4.0.1"
TOOLS_REQ="matplotlib==3.11.2 maturin>=1.5,<2"

peers_only=0
quick=0
pgo=1
ours_source="$ROOT"
run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --peers-only) peers_only=1 ;;
    --quick) quick=1 ;;
    --ours-source) ours_source="$(cd "$2" && pwd)"; shift ;;
    --plain) pgo=0 ;;
    --) shift; run_args+=("$@"); break ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "[bench] $*" >&2; }

# wrk, from Debian's packages, when it is missing.
command -v wrk >/dev/null || "$ROOT/scripts/setup-system.sh" wrk

# venv NAME REQUIREMENTS...: creates or refreshes benches/python/.venvs/NAME.
venv() {
  local name="$1"; shift
  local dir="$VENVS/$name" stamp="$*"
  if [ -f "$dir/.bench-requirements" ] && [ "$(cat "$dir/.bench-requirements")" = "$stamp" ]; then
    return
  fi
  say "venv $name: $stamp"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
  echo "$stamp" >"$dir/.bench-requirements"
}

mkdir -p "$VENVS"
venv tools $TOOLS_REQ
venv po2 $PO2_REQ $SERVERS_REQ
venv authlib $AUTHLIB_REQ $SERVERS_REQ
venv oauthlib $OAUTHLIB_REQ $SERVERS_REQ
venv canned $SERVERS_REQ

skip=()
if [ "$peers_only" = 1 ]; then
  skip+=(--skip ours)
elif [ ! -f "$ours_source/bindings/python/pyproject.toml" ]; then
  cat >&2 <<EOF
[bench] error: $ours_source/bindings/python/pyproject.toml does not exist, so our wheel cannot be
[bench] built on this checkout yet (the Python package lands with its own branch).
[bench] Measure the peers alone with:   scripts/bench.sh --peers-only
[bench] or build ours from another checkout:   scripts/bench.sh --ours-source /path/to/checkout
EOF
  exit 1
else
  venv ours $SERVERS_REQ
  wheels="$VENVS/wheels"
  rm -rf "$wheels"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ours_source/target}"
  pgo_flag=()
  export BENCH_OURS_BUILD="plain (no profile-guided optimisation)"
  if [ "$pgo" = 1 ]; then
    pgo_flag=(--pgo)
    export BENCH_OURS_BUILD="profile-guided (scripts/wheel.sh --pgo)"
  fi
  say "building our wheel from $ours_source/bindings/python (scripts/wheel.sh ${pgo_flag[*]})"
  "$ROOT/scripts/wheel.sh" --python "$VENVS/ours/bin/python" --out "$wheels" \
    --source "$ours_source" --maturin "$VENVS/tools/bin/maturin" "${pgo_flag[@]}" >/dev/null
  "$VENVS/ours/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
    "$wheels"/*.whl
fi

# The thread phase measures ours on the native Redis store too: make sure Redis answers.
"$ROOT/scripts/services.sh" >&2

# The checks that stand between a broken app and a figure, checked themselves first.
"$VENVS/tools/bin/python" -m unittest discover -s "$BENCH" -p 'test_harness.py' >&2

# The thread phase's Redis keys live in database 15 (benches/python/apps/po2.py): empty it
# afterwards, whatever the run's outcome, so that nothing of the bench is left in Redis.
trap 'redis-cli -n 15 flushdb >/dev/null 2>&1 || true' EXIT
if [ "$quick" = 1 ]; then
  out="$BENCH/.quick"
  say "quick smoke run into $out (docs untouched)"
  "$VENVS/tools/bin/python" "$BENCH/run.py" --venvs "$VENVS" --out "$out" "${skip[@]}" \
    --rounds 2 --requests 2000 --thread-rounds 1 --thread-duration 0.3 --http-rounds 1 \
    --http-duration 1 --tokens 100000 "${run_args[@]}"
  exit
fi
"$VENVS/tools/bin/python" "$BENCH/run.py" --venvs "$VENVS" --out "$ROOT/docs/benchmarks" \
  --doc "$ROOT/docs/benchmarks.md" "${skip[@]}" "${run_args[@]}"
