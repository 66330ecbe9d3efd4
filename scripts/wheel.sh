#!/usr/bin/env bash
# Builds the `oauth2` wheel with maturin, in the Cargo profile bindings/python/pyproject.toml
# names (`wheel`: fat LTO; checkouts older than that name none, and get release). The one place
# a wheel is built: scripts/python-env.sh and scripts/bench.sh call it.
#
#   scripts/wheel.sh --python PY --out DIR [--source CHECKOUT] [--maturin MATURIN] [--pgo]
#
# PY: the interpreter the wheel is for; DIR: where the wheel goes (older oauth2_engine wheels
# there are removed first); CHECKOUT: whose bindings/python to build (default: this one);
# MATURIN: the maturin to run (default: `maturin` on PATH). Prints the wheel's path.
#
# --pgo: profile-guided, the wheel `make bench` measures and the one to ship. A wheel built with
# instrumentation runs the benchmark harness's four workloads (client credentials, password, the
# authorization-code flow, rotating refresh: the requests a deployment serves all day; the
# training runs in a venv made from PY), LLVM's llvm-profdata merges what it counted, and the
# wheel is built again with those counts guiding inlining and code layout. About 18% fewer
# instructions in the extension, 4-8% per request in all (docs/benchmarks.md, "Where our time
# goes"); the build takes twice as long. llvm-profdata: $LLVM_PROFDATA, else rustup's
# llvm-tools when installed, else Debian's llvm-profdata-19 (package llvm-19, installed with
# scripts/setup-system.sh when missing), which reads the profiles of rustc 1.95's LLVM 22.
# Works in ${CARGO_TARGET_DIR:-target}/pgo.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="" out="" source="$ROOT" maturin="${MATURIN:-maturin}" pgo=0
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift ;;
    --out) out="$2"; shift ;;
    --source) source="$(cd "$2" && pwd)"; shift ;;
    --maturin) maturin="$2"; shift ;;
    --pgo) pgo=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "wheel: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$python" ] && [ -n "$out" ] || { echo "wheel: --python and --out are required" >&2; exit 2; }
say() { echo "[wheel] $*" >&2; }

profile=(--release)
grep -q '^profile = ' "$source/bindings/python/pyproject.toml" && profile=()
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# one_build DIR [MATURIN-ARGS...]: a wheel into DIR (its older wheels removed), with the
# caller's CARGO_TARGET_DIR and RUSTFLAGS.
one_build() {
  local dir="$1"; shift
  mkdir -p "$dir"
  rm -f "$dir"/oauth2_engine-*.whl
  "$maturin" build "${profile[@]}" "$@" --quiet \
    -m "$source/bindings/python/Cargo.toml" -i "$python" -o "$dir" >&2
}

if [ "$pgo" = 0 ]; then
  one_build "$out"
  ls "$out"/oauth2_engine-*.whl
  exit
fi

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
mkdir -p "$work"
rm -rf "$work/profiles" "$work/instrumented" "$work/merged.profdata"
# pgo_build TARGET-DIR-NAME WHEEL-DIR FLAGS: --target keeps RUSTFLAGS off build scripts and
# proc macros, which would otherwise be instrumented too and write profiles while cargo runs
# them.
pgo_build() {
  CARGO_TARGET_DIR="$work/$1" RUSTFLAGS="$3" one_build "$2" --target "$host"
}

say "1/4 instrumented build ($source)"
pgo_build target-instrumented "$work/instrumented" "-Cprofile-generate=$work/profiles"
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
pgo_build target-optimised "$out" "-Cprofile-use=$work/merged.profdata"
ls "$out"/oauth2_engine-*.whl
