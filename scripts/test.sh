#!/usr/bin/env bash
# The second README command: install everything the tests need (Debian's
# Chromium, the Python packages), make sure PostgreSQL answers, run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  echo "== installing Chromium and CJK fonts (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

echo "== installing Python packages into .venv"
scripts/setup.sh --test

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "== starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "== PostgreSQL answers on 127.0.0.1:5432"
else
  echo "== PostgreSQL does not answer: its tests will be skipped (or fail when CI=true)"
fi

echo "== running the tests in 2 processes (the whole suite: about 12 minutes on a 2-core machine)"
exec .venv/bin/python -m pytest -n 2 "$@"
