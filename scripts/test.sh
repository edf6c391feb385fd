#!/usr/bin/env bash
# Run the whole test suite (CI runs exactly this). Installs the tests' Debian packages (PostgreSQL, chromium) when
# possible; extra arguments go to pytest. --fast (first argument) leaves out the tests marked slow (real corpora,
# training, browsers, the type checker): for local runs. Exit code is pytest's, except that "no tests collected"
# (5) counts as a failure.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if ! command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL for the store tests" >&2
  { apt-get install -y -q postgresql >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1; }; } \
    || echo "PostgreSQL could not be installed; its tests will be skipped" >&2
fi
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests (tests/browser/)" >&2
  { apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } \
    || echo "chromium could not be installed; the browser test will be skipped" >&2
fi
marks=()
if [ "${1:-}" = --fast ]; then shift; marks=(-m "not slow"); fi
set +e
python -m pytest -n 2 "${marks[@]}" "$@"
status=$?
if [ "$status" = 5 ]; then echo "no tests were collected: failing" >&2; status=1; fi
exit "$status"
