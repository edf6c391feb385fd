"""The whole pipeline at scale on one machine: import -> align -> project -> queue, 1M pairs by default.

Data: the real Europarl bitexts in ../shared/data/parallel_europarl (en-de, en-es, en-it: 111,558 pairs). The
English side gets its entities from the CoNLL-2003 CRF of ``pipeline_speed.py`` (tagged once and cached); for more
pairs than that the real pairs are repeated in order (copy 2 of a pair is a new pair: the alignment learns from
it again, the projection and the queue write it again — which is what a larger corpus costs).

Each step is the real CLI as its own child process, on one database (a new SQLite file by default, or ``--db`` for
PostgreSQL, which the script then fills itself and does not clean up):

1. ``xner import parallel`` (English CoNLL with entities + target text, one transaction per batch, invisible until
   complete);
2. ``xner align`` (eflomal, grow-diag-final-and);
3. ``xner project`` (``--method``, default heuristic; ``--project-option`` passes more, e.g. ``--workers 2``);
4. ``xner queue --run N`` (the projection run becomes the review queue's suggestions).

Per step: wall and CPU seconds, pairs/s, and peak memory two ways: **xner** — the peak resident memory of the
xner process itself (its ``VmHWM``, read from /proc every 0.2 s while it runs); **largest child** — the same for
the biggest process it started (eflomal's sampler, a worker). (``ru_maxrss`` from ``os.wait4`` is not used: Linux
carries this script's own high-water mark into a child it starts, see ``common.py``.) The issue's targets are
checked at the end: 1M pairs in < 45 min on 2 cores, xner's own RSS < 2 GiB at every step.

Usage::

    .venv/bin/python benchmarks/scale.py                          # 1M pairs (about 30-45 min on 2 cores)
    .venv/bin/python benchmarks/scale.py --pairs 100k             # a few minutes
    .venv/bin/python benchmarks/scale.py --pairs 1M --project-option=--workers --project-option=2

Writes benchmarks/results/scale.json (other sizes than 1M: scale_<N>.json) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, REPO, RESULTS, child_env, command_line, machine, write_results, xner_command
from pipeline_speed import BITEXTS, parse_size, tagged_bitext

from xner.store.db import hide_passwords

TARGET_MINUTES = 45  # 1M pairs end to end on 2 cores
TARGET_RSS_MIB = 2048  # xner's own process, at every step
SAMPLE_S = 0.2
REPORTED = ("run_id", "pairs", "links", "seconds", "queued")  # kept from each command's --json report


@dataclass
class Step:
    name: str
    command: list[str]
    returncode: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    own_rss_mib: float = 0.0
    child_rss_mib: float = 0.0
    report: dict = field(default_factory=dict)
    stderr_tail: str = ""


def _hwm_kib(pid: int) -> int:
    """The peak resident set (VmHWM) of process ``pid`` in KiB, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as children:
                    kids = [int(x) for x in children.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


class _PeakWatcher(threading.Thread):
    """Samples the VmHWM of a process and of each of its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.own_kib, self.child_kib = pid, 0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.own_kib = max(self.own_kib, _hwm_kib(self.pid))
            for child in _descendants(self.pid):
                self.child_kib = max(self.child_kib, _hwm_kib(child))
            self._done.wait(SAMPLE_S)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_step(name: str, command: list[str], workdir: Path) -> Step:
    """Run ``command`` as a child process, its peak memory watched; its stdout is its ``--json`` report."""
    step = Step(name, command)
    out_path, err_path = workdir / f"{name}.out", workdir / f"{name}.err"
    env = child_env()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        watcher = _PeakWatcher(process.pid)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        step.wall_seconds = time.perf_counter() - started
        watcher.stop()
    step.returncode = os.waitstatus_to_exitcode(status)
    step.cpu_seconds = usage.ru_utime + usage.ru_stime
    step.own_rss_mib, step.child_rss_mib = watcher.own_kib / 1024, watcher.child_kib / 1024
    step.stderr_tail = err_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    if step.returncode != 0:
        shown = hide_passwords(" ".join(command))
        raise SystemExit(f"{name} failed (exit {step.returncode}): {shown}\n{hide_passwords(step.stderr_tail)}")
    step.report = json.loads(out_path.read_text(encoding="utf-8"))
    print(f"{name}: {step.wall_seconds:.1f} s, xner {step.own_rss_mib:.0f} MiB", file=sys.stderr)
    return step


def available_pairs(data: Path) -> int:
    total = 0
    for bitext in BITEXTS:
        with (data / "parallel_europarl" / bitext / "train.en").open("rb") as lines:
            total += sum(1 for _ in lines)
    return total


def scaled_bitext(data: Path, cache: Path, pairs: int, workdir: Path) -> tuple[Path, Path]:
    """``pairs`` tagged Europarl pairs as files (CoNLL English, plain target): the real ones, repeated in order
    when more are asked than exist. Written into ``workdir`` (1M pairs: about 300 MB)."""
    real = min(pairs, available_pairs(data))
    src_real, tgt_real = tagged_bitext(data, cache, real)
    if real == pairs:
        return src_real, tgt_real
    src_text, tgt_text = src_real.read_text(encoding="utf-8"), tgt_real.read_text(encoding="utf-8")
    src_blocks, tgt_lines = src_text.split("\n\n"), tgt_text.splitlines(keepends=True)
    src_blocks = [block for block in src_blocks if block.strip()]
    if len(src_blocks) != len(tgt_lines):
        raise SystemExit(f"{src_real}: {len(src_blocks)} sentences, but {tgt_real} has {len(tgt_lines)} lines")
    src_path, tgt_path = workdir / f"scale-{pairs}.en.conll", workdir / f"scale-{pairs}.tgt.txt"
    with src_path.open("w", encoding="utf-8") as src_out, tgt_path.open("w", encoding="utf-8") as tgt_out:
        for index in range(pairs):
            src_out.write(src_blocks[index % real].strip("\n") + "\n\n")
            tgt_out.write(tgt_lines[index % real])
    return src_path, tgt_path


def run_pipeline(args: argparse.Namespace, workdir: Path) -> list[Step]:
    src, tgt = scaled_bitext(args.data, args.cache, args.pairs, workdir)
    if not args.db:
        (workdir / "scale.db").unlink(missing_ok=True)  # a kept work folder: start from a new database
    db = args.db or f"sqlite:///{workdir / 'scale.db'}"
    xner, common = xner_command(), ["--corpus", "scale", "--db", db, "--json"]
    files = [str(src), str(tgt), "--src-format", "conll", "--tgt-format", "text", "--pretokenized", "--tgt-lang", "xx"]
    steps = [run_step("import", [*xner, "import", "parallel", *files, *common], workdir)]
    steps.append(run_step("align", [*xner, "align", *common, *args.align_option], workdir))
    project = [*xner, "project", *common, "--method", args.method, *args.project_option]
    steps.append(run_step("project", project, workdir))
    run_id = str(steps[-1].report["run_id"])
    steps.append(run_step("queue", [*xner, "queue", *common, "--run", run_id], workdir))
    return steps


def figures(step: Step, pairs: int) -> dict:
    return {
        "command": hide_passwords(" ".join(step.command[1:])),
        "wall_seconds": round(step.wall_seconds, 1),
        "cpu_seconds": round(step.cpu_seconds, 1),
        "pairs_per_second": round(pairs / step.wall_seconds) if step.wall_seconds else None,
        "xner_rss_mib": round(step.own_rss_mib, 1),
        "largest_child_rss_mib": round(step.child_rss_mib, 1),
        "report": {
            key: step.report[key] for key in ("run_id", "pairs", "links", "seconds", "queued") if key in step.report
        },
    }


def markdown(payload: dict) -> str:
    lines = [
        f"{payload['pairs']:,} pairs, {payload['machine']['affinity_cpus']} cores:",
        "",
        "| step | wall s | pairs/s | xner RSS MiB | largest child MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, step in payload["steps"].items():
        lines.append(
            f"| {name} | {step['wall_seconds']:,} | {step['pairs_per_second']:,} | {step['xner_rss_mib']:,} "
            f"| {step['largest_child_rss_mib']:,} |"
        )
    total = payload["total"]
    lines.append(
        f"| **total** | {total['wall_seconds']:,} ({total['minutes']} min) | | {total['max_xner_rss_mib']:,} | | |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=parse_size, default=parse_size("1M"), help="pairs (k/M suffixes)")
    parser.add_argument("--method", default="heuristic", help="projection method")
    parser.add_argument("--align-option", action="append", default=[], help="one more argument for xner align")
    parser.add_argument("--project-option", action="append", default=[], help="one more argument for xner project")
    parser.add_argument("--db", help="database URL (default: a new SQLite file in the work folder)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache")
    parser.add_argument("--workdir", type=Path, help="keep the files and database here (default: a temp folder)")
    parser.add_argument("--out", type=Path, help="results file (default results/scale.json, scale_<N>.json)")
    args = parser.parse_args(argv)
    if not (args.data / "parallel_europarl").is_dir():
        print(f"skipped: {args.data / 'parallel_europarl'} is missing (the shared data sits beside the checkout)")
        return 0
    args.cache.mkdir(parents=True, exist_ok=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xner-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        steps = run_pipeline(args, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = sum(step.wall_seconds for step in steps)
    max_rss = max(step.own_rss_mib for step in steps)
    payload = {
        "benchmark": "scale",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": hide_passwords(command_line()),
        "machine": machine(),
        "pairs": args.pairs,
        "database": "sqlite" if not args.db else args.db.split(":", 1)[0],
        "steps": {step.name: figures(step, args.pairs) for step in steps},
        "total": {
            "wall_seconds": round(wall, 1),
            "minutes": round(wall / 60, 1),
            "max_xner_rss_mib": round(max_rss, 1),
        },
        "targets": {
            "minutes": TARGET_MINUTES,
            "rss_mib": TARGET_RSS_MIB,
            "time_met": wall / 60 < TARGET_MINUTES if args.pairs == 1_000_000 else None,
            "rss_met": max_rss < TARGET_RSS_MIB,
        },
    }
    default = "scale.json" if args.pairs == 1_000_000 else f"scale_{args.pairs}.json"
    write_results(args.out or RESULTS / default, payload)
    print(markdown(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
