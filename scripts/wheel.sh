#!/usr/bin/env bash
# Builds the `oauth2` wheel with maturin, in the Cargo profile bindings/python/pyproject.toml
# names (`wheel`: fat LTO; checkouts older than that name none, and get release). The one place
# a wheel is built: scripts/python-env.sh, scripts/bench.sh --plain and both builds of
# scripts/pgo-wheel.sh (which passes its RUSTFLAGS and CARGO_TARGET_DIR through) call it.
#
#   scripts/wheel.sh --python PY --out DIR [--source CHECKOUT] [--maturin MATURIN] [--target TRIPLE]
#
# PY: the interpreter the wheel is for; DIR: where the wheel goes (older oauth2_engine wheels
# there are removed first); CHECKOUT: whose bindings/python to build (default: this one);
# MATURIN: the maturin to run (default: `maturin` on PATH); TRIPLE: passed to maturin --target.
# Prints the wheel's path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="" out="" source="$ROOT" maturin="${MATURIN:-maturin}" target=()
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift ;;
    --out) out="$2"; shift ;;
    --source) source="$(cd "$2" && pwd)"; shift ;;
    --maturin) maturin="$2"; shift ;;
    --target) target=(--target "$2"); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "wheel: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$python" ] && [ -n "$out" ] || { echo "wheel: --python and --out are required" >&2; exit 2; }

profile=(--release)
grep -q '^profile = ' "$source/bindings/python/pyproject.toml" && profile=()
mkdir -p "$out"
rm -f "$out"/oauth2_engine-*.whl
"$maturin" build "${profile[@]}" "${target[@]}" --quiet \
  -m "$source/bindings/python/Cargo.toml" -i "$python" -o "$out" >&2
ls "$out"/oauth2_engine-*.whl
