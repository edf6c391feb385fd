#!/usr/bin/env bash
# The sample-efficiency study (docs/study/README.md) from a fresh clone: creates .venv if needed, then runs
# benchmarks/study.py with any arguments given (e.g. --langs yor,hau --ks 50,100 --seeds 0-2 --eval-split dev).
# Resumable: finished runs are cached.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python benchmarks/study.py "$@"
