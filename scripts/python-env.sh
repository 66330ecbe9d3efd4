#!/usr/bin/env bash
# Creates .venv at the repository root (if missing), installs the build and test tools into it,
# builds the `oauth2` wheel with maturin and installs it. Safe to run again: it only rebuilds.
# OAUTH2_PGO=1: the profile-guided wheel (scripts/wheel.sh --pgo), twice the build time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="$ROOT/.venv"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "maturin>=1.5,<2" "pytest>=7" "tornado>=6" "requests>=2.28" "waitress>=2.1" "mypy>=1.5" "redis>=4" \
    "PyMySQL>=1.0" "pymemcache>=4" "pymongo>=4,<5" "psycopg[binary]>=3.1"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
WHEELS="$ROOT/target/wheels"
# OAUTH2_PGO=1: the profile-guided build that ships and that `make bench` measures (CI tests
# this one); otherwise the profile pyproject.toml names for the wheel (fat LTO, see Cargo.toml).
pgo=()
[ "${OAUTH2_PGO:-0}" = 1 ] && pgo=(--pgo)
WHEEL="$(scripts/wheel.sh --python "$VENV/bin/python" --maturin "$VENV/bin/maturin" --out "$WHEELS" \
    "${pgo[@]}")"
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$WHEEL"
echo "wheel: $WHEEL"
echo "installed into: $VENV"
