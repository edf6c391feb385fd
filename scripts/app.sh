#!/usr/bin/env bash
# Start the xner app on the demo project (SQLite file xner.db, or $XNER_DB); extra arguments go to streamlit.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export XNER_DB="${XNER_DB:-sqlite:///$ROOT/xner.db}"
exec python -m streamlit run "$ROOT/app.py" --browser.gatherUsageStats false "$@"
