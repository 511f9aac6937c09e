#!/usr/bin/env bash
# Lint: ruff, then mypy (strict, configured in pyproject.toml) on fieldapp/ and sync/,
# with the tools that `scripts/setup.sh --test` installs into .venv (installed first if
# missing). Exits non-zero on the first finding; .ci/run runs it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/ruff ] || [ ! -x .venv/bin/mypy ]; then
  echo "== installing Python packages into .venv"
  scripts/setup.sh --test
fi
echo "== ruff check ."
.venv/bin/ruff check .
echo "== mypy fieldapp sync"
.venv/bin/mypy fieldapp sync
