#!/usr/bin/env bash
# The first README command: install, build the demo town 保安镇 on SQLite
# (instance/fieldapp.db), simulate visits for 60% of households, print the
# demo logins and serve on http://127.0.0.1:5000 (Ctrl+C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/fieldapp demo --visits "${FIELDAPP_DEMO_VISITS:-0.6}" "$@"
