#!/usr/bin/env bash
# Extract translatable strings, update the English catalogue, compile it.
# Usage: scripts/i18n.sh [extract|compile]  (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
dir=fieldapp/translations
if [ "${1:-all}" != compile ]; then
  "$PY" -m babel.messages.frontend extract -F babel.cfg -k _l -k lazy_gettext -o "$dir/messages.pot" --no-location --sort-output . >/dev/null
  if [ -f "$dir/en/LC_MESSAGES/messages.po" ]; then
    "$PY" -m babel.messages.frontend update -i "$dir/messages.pot" -d "$dir" -l en --no-fuzzy-matching >/dev/null
  else
    "$PY" -m babel.messages.frontend init -i "$dir/messages.pot" -d "$dir" -l en >/dev/null
  fi
fi
"$PY" -m babel.messages.frontend compile -d "$dir" -l en >/dev/null
echo "catalogue: $dir/en/LC_MESSAGES/messages.po"
