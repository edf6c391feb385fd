#!/usr/bin/env bash
# Start the xner app on the demo project (SQLite file xner.db, or $XNER_DB); extra arguments go to streamlit.
# It listens on 127.0.0.1 only, unless told otherwise: --server.address ADDRESS, or XNER_ADDRESS=ADDRESS
# (e.g. 0.0.0.0 for every interface: first configure a login and a proxy, see the README's "Team deployment").
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export XNER_DB="${XNER_DB:-sqlite:///$ROOT/xner.db}"
address=(--server.address "${XNER_ADDRESS:-127.0.0.1}")
for arg in "$@"; do
  case "$arg" in --server.address | --server.address=*) address=() ;; esac
done
exec python -m streamlit run "$ROOT/app.py" --browser.gatherUsageStats false "${address[@]}" "$@"
