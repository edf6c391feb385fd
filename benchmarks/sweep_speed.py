"""Wall time and peak memory of one full sweep of the study for one language, from an empty database.

    .venv/bin/python benchmarks/sweep_speed.py                 # yor, a fresh database in a temporary folder
    .venv/bin/python benchmarks/sweep_speed.py --lang hau --db .study/study.db   # keep the database for the study

Runs ``benchmarks/study.py --langs LANG`` (import CoNLL-2003 and train the English CRF, import MAFAND-MT and
MasakhaNER 2.0, align with eflomal, project, then every strategy × k × seed of docs/study/study.yaml with its
2 worker processes) as a child process; the peak memory is the largest sum of the resident memory of the child
and all its descendants, sampled every 0.2 s from /proc. Goal: under 30 minutes on 2 cores.
Writes benchmarks/results/sweep_speed.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, RESULTS, command_line, machine, write_results

GOAL_SECONDS = 30 * 60


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    """The resident memory of ``pid`` and all its descendants, in KiB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += _rss_kib(current)
        stack += _children(current)
    return total


def run_measured(command: list[str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak tree RSS in MiB, stderr tail) of ``command``."""
    peak = 0
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_kib(process.pid))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        err.seek(0)
        tail = err.read().decode("utf-8", errors="replace")[-1500:]
    return code, wall, peak / 1024, tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="yor")
    parser.add_argument("--config", type=Path, default=REPO / "docs" / "study" / "study.yaml")
    parser.add_argument("--db", type=Path, help="the study database (default: a fresh one in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xner-sweep-") as folder:
        db = args.db or Path(folder) / "study.db"
        if db.exists():
            print(f"sweep_speed: {db} exists; the benchmark starts from an empty database", file=sys.stderr)
            return 2
        out = Path(folder) / "out"
        command = [sys.executable, "benchmarks/study.py", "--langs", args.lang, "--config", str(args.config)]
        command += ["--db", str(db), "--out", str(out)]
        code, wall, peak_mib, tail = run_measured(command)
    if code != 0:
        print(f"sweep_speed: the study failed ({code}):\n{tail}", file=sys.stderr)
        return 1
    result = {
        "command": command_line(),
        "language": args.lang,
        "config": os.path.relpath(args.config, REPO),
        "wall_seconds": round(wall, 1),
        "wall_minutes": round(wall / 60, 2),
        "peak_memory_mib": round(peak_mib, 1),
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": wall < GOAL_SECONDS,
        "machine": machine(),
    }
    write_results(RESULTS / "sweep_speed.json", result)
    print(f"{args.lang}: full sweep {wall / 60:.1f} min, peak memory {peak_mib:.0f} MiB (goal < 30 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
