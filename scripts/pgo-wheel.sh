#!/usr/bin/env bash
# The profile-guided wheel: `scripts/wheel.sh --pgo` (see there), kept under the name the docs
# and earlier benchmark runs give it.
#
#   scripts/pgo-wheel.sh --python PY --out DIR [--source CHECKOUT] [--maturin MATURIN]
exec "$(dirname "${BASH_SOURCE[0]}")/wheel.sh" --pgo "$@"
