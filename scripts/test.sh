#!/usr/bin/env bash
# Runs every test: Rust (engine, storage backends, C programs under AddressSanitizer), the
# Python package's pytest suite, and the static checks. Sets up what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-system.sh
scripts/services.sh

echo "== cargo fmt / clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

echo "== python"
scripts/python-env.sh
.venv/bin/python -m pytest bindings/python/tests -q
