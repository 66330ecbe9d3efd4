#!/usr/bin/env bash
# Builds the `oauth2` wheel with profile-guided optimisation: the wheel `make bench` measures
# and the one to ship. A wheel built with instrumentation runs the benchmark harness's four
# workloads (client credentials, password, the authorization-code flow, rotating refresh: the
# requests a deployment serves all day), LLVM's llvm-profdata merges what it counted, and the
# wheel is built again with those counts guiding inlining and code layout. About 18% fewer
# instructions in the extension, 4-8% per request in all (docs/benchmarks.md, "Where our time
# goes"); the build takes twice as long as a plain one.
#
#   scripts/pgo-wheel.sh --python PY --out DIR [--source CHECKOUT] [--maturin MATURIN]
#
# PY: the interpreter the wheel is for (the training runs in a venv made from it); DIR: where
# the wheel goes; CHECKOUT: whose bindings/python to build (default: this one); MATURIN: the
# maturin to run (default: `maturin` on PATH). llvm-profdata: $LLVM_PROFDATA, else rustup's
# llvm-tools when installed, else Debian's llvm-profdata-19 (package llvm-19, installed with
# scripts/setup-system.sh when missing), which reads the profiles of rustc 1.95's LLVM 22. Works in
# ${CARGO_TARGET_DIR:-target}/pgo.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="" out="" source="$ROOT" maturin="${MATURIN:-maturin}"
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift ;;
    --out) out="$2"; shift ;;
    --source) source="$(cd "$2" && pwd)"; shift ;;
    --maturin) maturin="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "pgo-wheel: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$python" ] && [ -n "$out" ] || { echo "pgo-wheel: --python and --out are required" >&2; exit 2; }
say() { echo "[pgo-wheel] $*" >&2; }

host="$(rustc -vV | sed -n 's/^host: //p')"
llvm="$(rustc -vV | sed -n 's/^LLVM version: //p')"
profdata="${LLVM_PROFDATA:-}"
if [ -z "$profdata" ]; then
  rustup_tool="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
  if [ -x "$rustup_tool" ]; then
    profdata="$rustup_tool"
  else
    command -v llvm-profdata-19 >/dev/null || "$ROOT/scripts/setup-system.sh" llvm-19
    profdata=llvm-profdata-19
  fi
fi

work="${CARGO_TARGET_DIR:-$ROOT/target}/pgo"
mkdir -p "$work" "$out"
out="$(cd "$out" && pwd)"
rm -rf "$work/profiles" "$work/instrumented" "$work/merged.profdata"
# build TARGET-DIR-NAME WHEEL-DIR FLAGS: --target keeps RUSTFLAGS off build scripts and proc
# macros, which would otherwise be instrumented too and write profiles while cargo runs them.
build() {
  CARGO_TARGET_DIR="$work/$1" RUSTFLAGS="$3" "$ROOT/scripts/wheel.sh" --python "$python" \
    --out "$2" --source "$source" --maturin "$maturin" --target "$host" >/dev/null
}

say "1/4 instrumented build ($source)"
build target-instrumented "$work/instrumented" "-Cprofile-generate=$work/profiles"
say "2/4 training: the benchmark workloads on the instrumented wheel"
[ -x "$work/venv/bin/python" ] || "$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
  "$work"/instrumented/*.whl
"$work/venv/bin/python" "$ROOT/benches/python/pgo_train.py" >&2
say "3/4 merging the profile ($profdata)"
if ! "$profdata" merge -o "$work/merged.profdata" "$work"/profiles/*.profraw; then
  say "error: $profdata cannot read the profile rustc wrote (rustc's LLVM is $llvm);"
  say "set LLVM_PROFDATA to an llvm-profdata of LLVM $llvm or newer, or measure a plain"
  say "build (scripts/bench.sh --plain)"
  exit 1
fi
say "4/4 optimised build"
build target-optimised "$out" "-Cprofile-use=$work/merged.profdata"
ls "$out"/oauth2_engine-*.whl
