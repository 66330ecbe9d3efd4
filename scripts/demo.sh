#!/usr/bin/env bash
# Builds the wheel into .venv (scripts/python-env.sh) and starts the demo authorization server
# on 127.0.0.1:8080 (examples/python/demo_server.py). Ctrl-C stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/python-env.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/examples/python/demo_server.py"
