#!/usr/bin/env bash
# Sourced by app.sh and test.sh: creates .venv and installs the pinned requirements when they changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$(command -v python3.11 || command -v python3)"
stamp_of() { cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1; }
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtualenv in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$VENV/.xner-stamp" 2>/dev/null)" != "$(stamp_of)" ]; then
  echo "installing requirements (a few minutes the first time)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT"
  stamp_of > "$VENV/.xner-stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
